import { describe, expect, it } from 'vitest';
import { isFresh } from '#shared/freshness.ts';
import { isOverdue, nodeStatus } from '#shared/node-status.ts';
import { loggedEventOf } from '#shared/event-log.ts';
import { lostAfterHeartbeatsFrom, ReaperConfigError } from '#functions/membership/reap-nodes.ts';
import { applyInstanceState, InvalidInstanceStateEvent } from '#functions/membership/instance-state.ts';
import type { NodesStore } from '#shared/stores/nodes-store.ts';
import { LOCAL_EVENT_RULES, matchesPattern } from '#local/event-rules.ts';
import { nodeItem } from '../helpers/factories.ts';

const NOW = 1_000_000_000;

describe('discovery and membership', () => {
  it.each(['lost', 'stopped', 'terminated'])('never discovers a %s node, however recent', (status) => {
    expect(isFresh(nodeItem({ lastSeen: NOW, heartbeatSec: 60, status }), NOW)).toBe(false);
  });

  it('discovers an active node, and one recorded before statuses existed', () => {
    expect(isFresh(nodeItem({ lastSeen: NOW, heartbeatSec: 60, status: 'active' }), NOW)).toBe(true);
    expect(isFresh(nodeItem({ lastSeen: NOW, heartbeatSec: 60 }), NOW)).toBe(true);
    expect(nodeStatus({ status: 'bogus' })).toBe('active');
  });

  it('is overdue only past N of its own heartbeat intervals, and only when active', () => {
    const node = { lastSeen: NOW - 180_000, heartbeatSec: 60 };
    expect(isOverdue(node, NOW, 3)).toBe(false);
    expect(isOverdue(node, NOW + 1, 3)).toBe(true);
    expect(isOverdue({ ...node, status: 'lost' }, NOW + 1, 3)).toBe(false);
  });

  it.each(['1', '0', '-3', '2.5', 'x', '1001'])('refuses DROVER_LOST_AFTER_HEARTBEATS=%s', (value) => {
    expect(() => lostAfterHeartbeatsFrom(value, 3)).toThrow(ReaperConfigError);
  });

  it('takes DROVER_LOST_AFTER_HEARTBEATS, or the default when unset', () => {
    expect(lostAfterHeartbeatsFrom('5', 3)).toBe(5);
    expect(lostAfterHeartbeatsFrom(undefined, 3)).toBe(3);
  });
});

describe('EC2 state changes', () => {
  const deps = {
    membership: { markInstanceState: async () => undefined } as unknown as NodesStore,
    deleteInbox: async () => {},
    events: { publish: async () => {} },
    now: () => NOW,
    log: { info: () => {} },
  };

  it('refuses an event that is not an EC2 state-change notification', async () => {
    await expect(applyInstanceState({ source: 'aws.ec2', detail: {} }, deps)).rejects.toThrow(
      InvalidInstanceStateEvent,
    );
  });

  it('ignores states other than stopped and terminated', async () => {
    const event = {
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      time: '2026-12-01T00:00:00Z',
      detail: { 'instance-id': 'i-1', state: 'stopping' },
    };
    expect(await applyInstanceState(event, deps)).toBe('ignored');
  });
});

describe('event log items', () => {
  const event = {
    id: 'e-1',
    time: '2026-12-01T23:59:59Z',
    source: 'drover',
    'detail-type': 'Node Lost',
    detail: { at: Date.parse('2026-12-02T00:00:00.250Z'), nodeId: 'i-1', identity: 'web-1' },
  };

  it('orders by the detail time (ms) and partitions by its UTC day', () => {
    expect(loggedEventOf(event)).toMatchObject({
      day: '2026-12-02',
      sk: `00${Date.parse('2026-12-02T00:00:00.250Z')}#e-1`,
      type: 'Node Lost',
      nodeId: 'i-1',
    });
  });

  it("falls back to the event's time when the detail has none", () => {
    expect(loggedEventOf({ ...event, detail: { runId: 'r-1' } })).toMatchObject({
      day: '2026-12-01',
      at: Date.parse('2026-12-01T23:59:59Z'),
      runId: 'r-1',
    });
  });

  it('refuses an event with no usable time', () => {
    expect(() => loggedEventOf({ ...event, time: 'yesterday', detail: {} })).toThrow(RangeError);
  });
});

describe('local event rules', () => {
  const rule = (id: string) => LOCAL_EVENT_RULES.find((r) => r.id === id)!.pattern;
  const ec2 = (state: string) => ({
    source: 'aws.ec2',
    'detail-type': 'EC2 Instance State-change Notification',
    detail: { 'instance-id': 'i-1', state },
  });

  it('match EC2 stops and terminations, not other states or sources', () => {
    expect(matchesPattern(rule('InstanceStateRule'), ec2('terminated'))).toBe(true);
    expect(matchesPattern(rule('InstanceStateRule'), ec2('stopped'))).toBe(true);
    expect(matchesPattern(rule('InstanceStateRule'), ec2('running'))).toBe(false);
    expect(matchesPattern(rule('InstanceStateRule'), { ...ec2('stopped'), source: 'drover' })).toBe(false);
  });

  it('record every drover event', () => {
    expect(matchesPattern(rule('RecordEventsRule'), { source: 'drover', 'detail-type': 'Anything' })).toBe(
      true,
    );
    expect(matchesPattern(rule('RecordEventsRule'), { source: 'aws.ec2' })).toBe(false);
  });
});
