import { describe, expect, it } from 'vitest';
import { eventLine, keepEvent, parseEventType, parseSince } from '#cli/event-timeline.ts';
import { CliError } from '#cli/errors.ts';
import type { LoggedEvent } from '#shared/event-log.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function logged(overrides: Partial<LoggedEvent> = {}): LoggedEvent {
  return {
    day: '2026-12-01',
    sk: 'x',
    id: 'e-1',
    at: Date.parse('2026-12-01T11:59:00.250Z'),
    type: 'Node Lost',
    source: 'drover',
    detail: { nodeId: 'i-1', identity: 'web-1', reason: 'missed 3 heartbeats (60 s each)', facts: { a: 1 } },
    nodeId: 'i-1',
    identity: 'web-1',
    expiresAt: 0,
    ...overrides,
  };
}

describe('drover events', () => {
  it.each([
    ['90s', NOW - 90_000],
    ['15m', NOW - 900_000],
    ['1h', NOW - 3_600_000],
    ['2026-12-01T09:00Z', Date.parse('2026-12-01T09:00Z')],
  ])('reads --since %s', (text, expected) => {
    expect(parseSince(text, NOW)).toBe(expected);
  });

  it('caps --since at what the log keeps', () => {
    expect(parseSince('400d', NOW)).toBe(NOW - 31 * 86_400_000);
  });

  it.each(['1 hour', '-5m', 'yesterday', ''])('refuses --since %j', (text) => {
    expect(() => parseSince(text, NOW)).toThrow(CliError);
  });

  it('takes event types in any case, with dashes or spaces, and refuses others listing the valid ones', () => {
    expect(parseEventType('node-lost')).toBe('Node Lost');
    expect(parseEventType('BOOTSTRAP FAILED')).toBe('Bootstrap Failed');
    expect(() => parseEventType('node gone')).toThrow(/one of: Node Joined/);
  });

  it('filters by type and by node id or identity', () => {
    expect(keepEvent(logged(), { types: ['Node Lost'], nodes: ['web-1'] })).toBe(true);
    expect(keepEvent(logged(), { nodes: ['i-1'] })).toBe(true);
    expect(keepEvent(logged(), { nodes: ['web-2'] })).toBe(false);
    expect(keepEvent(logged(), { types: ['Node Joined'] })).toBe(false);
  });

  it('prints one line: time, type, host, then the scalar details (facts left out)', () => {
    expect(eventLine(logged())).toBe(
      '2026-12-01 11:59:00.250  Node Lost              web-1 (i-1)  reason="missed 3 heartbeats (60 s each)"',
    );
  });

  it('shows control characters a host put in its name instead of sending them to the terminal', () => {
    const line = eventLine(logged({ identity: 'evil\u001b[2J', detail: {} }));
    expect(line).toContain('evil\\x1b[2J');
    expect(line).not.toContain('\u001b');
  });
});
