/**
 * The local scheduler's firing with a controlled clock: cron across a DST change in the
 * schedule's zone, one-time schedules, the flexible window, pause, and fires missed while the
 * clock jumped. The target is a recording StartExecution.
 */
import { describe, expect, it } from 'vitest';
import { LocalScheduler } from '#local/scheduler.ts';
import type { ScheduleInput } from '#local/scheduler-validation.ts';

const MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:drover-local-run';
const ROLE = 'arn:aws:iam::000000000000:role/drover-local-us-east-1-scheduler';
const HOUR = 3_600_000;

function setup(startIso: string, random = () => 0) {
  let now = Date.parse(startIso);
  const started: { name: string; input: unknown }[] = [];
  const scheduler = new LocalScheduler({
    region: 'us-east-1',
    account: '000000000000',
    groups: ['drover-local'],
    rolePolicies: { [ROLE]: [MACHINE] },
    startExecution: (_arn, name, input) => void started.push({ name, input: JSON.parse(input) }),
    now: () => now,
    random,
  });
  const at = (iso: string) => {
    now = Date.parse(iso);
    return scheduler.tick().map((f) => new Date(f.scheduledTime).toISOString());
  };
  return { scheduler, started, at, advance: (ms: number) => ((now += ms), scheduler.tick()) };
}

const schedule = (overrides: Partial<ScheduleInput> = {}): ScheduleInput => ({
  Name: 'nightly',
  GroupName: 'drover-local',
  ScheduleExpression: 'cron(30 2 * * ? *)',
  ScheduleExpressionTimezone: 'Europe/Berlin',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: {
    Arn: MACHINE,
    RoleArn: ROLE,
    Input: JSON.stringify({ command: { shell: 'true' }, schedule: { name: 'nightly' } }),
  },
  ...overrides,
});

describe('LocalScheduler', () => {
  it('fires a Berlin 02:30 cron every night but the one the clocks skip', () => {
    const { scheduler, at } = setup('2026-03-27T00:00:00Z');
    scheduler.create(schedule());
    const fired = [
      ...at('2026-03-27T12:00:00Z'),
      ...at('2026-03-28T12:00:00Z'),
      ...at('2026-03-29T12:00:00Z'),
      ...at('2026-03-30T12:00:00Z'),
    ];
    expect(fired).toEqual([
      '2026-03-27T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('fires once in the repeated hour of the fall-back night', () => {
    const { scheduler, at } = setup('2026-10-24T12:00:00Z');
    scheduler.create(schedule());
    expect([
      ...at('2026-10-25T00:45:00Z'),
      ...at('2026-10-25T01:45:00Z'),
      ...at('2026-10-25T12:00:00Z'),
    ]).toEqual(['2026-10-25T00:30:00.000Z']);
  });

  it('delivers every fire missed while the clock jumped, each with its own execution name', () => {
    const { scheduler, advance, started } = setup('2026-12-01T10:00:00Z');
    scheduler.create(schedule({ ScheduleExpression: 'rate(1 hour)' }));
    expect(advance(0)).toHaveLength(1); // a rate schedule starts at once
    expect(advance(3 * HOUR)).toHaveLength(3);
    expect(new Set(started.map((s) => s.name)).size).toBe(4);
    // The schedule's input is passed as it is: each execution's name is its run id.
    expect(started.every((s) => !('runId' in (s.input as object)))).toBe(true);
  });

  it('fires nothing while disabled and resumes after the update', () => {
    const { scheduler, advance } = setup('2026-12-01T10:00:00Z');
    scheduler.create(schedule({ ScheduleExpression: 'rate(1 hour)', State: 'DISABLED' }));
    expect(advance(5 * HOUR)).toEqual([]);
    scheduler.update(schedule({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' }));
    expect(advance(0)).toEqual([]);
    expect(advance(HOUR)).toHaveLength(1);
  });

  it('fires a one-time schedule once and, with ActionAfterCompletion DELETE, removes it', () => {
    const { scheduler, at } = setup('2026-12-01T00:00:00Z');
    scheduler.create(
      schedule({
        Name: 'once',
        ScheduleExpression: 'at(2026-12-24T22:00:00)',
        ActionAfterCompletion: 'DELETE',
      }),
    );
    expect(at('2026-12-24T20:59:00Z')).toEqual([]);
    expect(at('2026-12-24T21:00:00Z')).toEqual(['2026-12-24T21:00:00.000Z']);
    expect(at('2026-12-31T00:00:00Z')).toEqual([]);
    expect(() => scheduler.get('once', 'drover-local')).toThrow(/does not exist/);
  });

  it('delivers within the flexible window, not before the fire time', () => {
    const { scheduler, at } = setup('2026-12-01T00:00:00Z', () => 0.5);
    scheduler.create(
      schedule({
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 },
      }),
    );
    expect(at('2026-12-01T02:30:00Z')).toEqual([]);
    expect(at('2026-12-01T02:34:59Z')).toEqual([]);
    expect(at('2026-12-01T02:35:00Z')).toEqual(['2026-12-01T02:30:00.000Z']);
  });

  it("answers the SDK's retry of a create that went through (same ClientToken), and refuses another create", () => {
    const { scheduler } = setup('2026-12-01T10:00:00Z');
    const first = scheduler.create(schedule({ ClientToken: 'token-1' }));
    expect(scheduler.create(schedule({ ClientToken: 'token-1' }))).toEqual(first);
    expect(() => scheduler.create(schedule({ ClientToken: 'token-2' }))).toThrow(/already exists/);
    expect(() => scheduler.create(schedule())).toThrow(/already exists/);
    expect(scheduler.get('nightly', 'drover-local')).not.toHaveProperty('ClientToken');
  });

  it('stops at EndDate', () => {
    const { scheduler, advance } = setup('2026-12-01T10:00:00Z');
    scheduler.create(
      schedule({ ScheduleExpression: 'rate(1 hour)', EndDate: Date.parse('2026-12-01T12:30:00Z') / 1000 }),
    );
    expect(advance(10 * HOUR)).toHaveLength(3);
  });
});
