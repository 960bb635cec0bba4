import { describe, expect, it } from 'vitest';
import {
  checkRunShape,
  dispatchGroupSize,
  groupCount,
  groupItems,
  groupSizeFor,
  InvalidGroupSize,
} from '#functions/run/dispatch-groups.ts';
import {
  FIXED_EVENTS,
  OUTCOME_EVENTS,
  HISTORY_BUDGET,
  MAX_BATCHES,
  MAX_HISTORY_EVENTS,
  runHistoryEvents,
} from '#functions/run/history-budget.ts';
import { batchSizes } from '#functions/run/plan-run.ts';
import { DISPATCH_GROUP_SIZE, InvalidRunRequest, MAX_GROUPS_PER_BATCH } from '#functions/run/state.ts';
import { groupSk } from '#shared/runs-table.ts';

describe('dispatchGroupSize', () => {
  it('is 500 (one signature’s hosts) unless the environment lowers it', () => {
    expect(dispatchGroupSize({})).toBe(DISPATCH_GROUP_SIZE);
    expect(DISPATCH_GROUP_SIZE).toBe(500);
    expect(dispatchGroupSize({ DROVER_DISPATCH_GROUP_SIZE: '' })).toBe(500);
    expect(dispatchGroupSize({ DROVER_DISPATCH_GROUP_SIZE: '2' })).toBe(2);
  });

  it.each(['0', '501', '-1', '2.5', 'ten', '1e2'])('refuses %s, naming the variable and the range', (raw) => {
    expect(() => dispatchGroupSize({ DROVER_DISPATCH_GROUP_SIZE: raw })).toThrow(InvalidGroupSize);
    expect(() => dispatchGroupSize({ DROVER_DISPATCH_GROUP_SIZE: raw })).toThrow(
      `DROVER_DISPATCH_GROUP_SIZE is "${raw}": give a whole number of hosts from 1 to 500`,
    );
  });
});

describe('groups of a batch', () => {
  it('cuts the targets in order into groups of the configured size, the last one smaller', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const items = groupItems('run-1', 3, ids, 2, 99);

    expect(items).toEqual([
      { runId: 'run-1', sk: groupSk(3, 0), batch: 3, group: 0, nodeIds: ['a', 'b'], expiresAt: 99 },
      { runId: 'run-1', sk: groupSk(3, 1), batch: 3, group: 1, nodeIds: ['c', 'd'], expiresAt: 99 },
      { runId: 'run-1', sk: groupSk(3, 2), batch: 3, group: 2, nodeIds: ['e'], expiresAt: 99 },
    ]);
    expect(groupCount(5, 2)).toBe(items.length);
    expect(groupSk(3, 2)).toBe('group#0003#0002');
  });

  it('makes no group for an empty batch', () => {
    expect(groupItems('run-1', 0, [], 500, 0)).toEqual([]);
    expect(groupCount(0, 500)).toBe(0);
  });

  it(`grows the groups of a batch that would have more than ${MAX_GROUPS_PER_BATCH}, so the state stays small`, () => {
    expect(groupCount(100_000, 500)).toBe(200);
    expect(groupSizeFor(150_000, 500)).toBe(750);
    expect(groupCount(150_000, 500)).toBe(200);
    expect(groupCount(1_000, 1)).toBe(MAX_GROUPS_PER_BATCH);
    const ids = Array.from({ length: 1_001 }, (_, i) => `n${i}`);
    const items = groupItems('run-1', 0, ids, 1, 0);
    expect(items.length).toBeLessThanOrEqual(MAX_GROUPS_PER_BATCH);
    expect(items.flatMap((item) => item.nodeIds)).toEqual(ids);
  });
});

describe('the run’s history budget', () => {
  it('counts 14 events for a run with no batch, 21 a batch, 7 a group, 2 a sleep, and its ending', () => {
    expect(FIXED_EVENTS).toBe(14);
    expect(OUTCOME_EVENTS).toEqual({ succeeded: 4, hostsFailed: 5 });
    expect(runHistoryEvents([], true, 'succeeded')).toBe(FIXED_EVENTS + 4);
    expect(runHistoryEvents([1], false, 'succeeded')).toBe(14 + 4 + 21 + 7);
    expect(runHistoryEvents([2, 1], true, 'succeeded')).toBe(14 + 4 + 2 * 21 + 3 * 7 + 2);
    // Plan budgets for the longer ending.
    expect(runHistoryEvents([2, 1], true)).toBe(14 + 5 + 2 * 21 + 3 * 7 + 2);
  });

  it('fits 50,000 hosts in one batch with 96% of the quota to spare', () => {
    const events = runHistoryEvents([groupCount(50_000, 500)], false);
    expect(events).toBe(740);
    expect(events / MAX_HISTORY_EVENTS).toBeLessThan(0.03);
  });

  it(`fits ${MAX_BATCHES} one-group batches with sleeps within the budget, leaving room for retries`, () => {
    expect(runHistoryEvents(Array<number>(MAX_BATCHES).fill(1), true)).toBeLessThanOrEqual(HISTORY_BUDGET);
    expect(MAX_HISTORY_EVENTS - HISTORY_BUDGET).toBeGreaterThanOrEqual(3_000);
    expect(() => checkRunShape(batchSizes(MAX_BATCHES, 1), 500)).not.toThrow();
  });

  it('refuses one batch too many with the --batch that fits', () => {
    expect(() => checkRunShape(batchSizes(MAX_BATCHES + 1, 1), 500)).toThrow(
      `${MAX_BATCHES + 1} hosts in batches of 1 make ${MAX_BATCHES + 1} batches, more than the ${MAX_BATCHES}`,
    );
  });

  it('refuses a run whose groups would outgrow the budget, even in few batches', () => {
    // 650 batches of 2,000 hosts: 4 groups each, 1.3 million hosts.
    const sizes = Array<number>(MAX_BATCHES).fill(2_000);
    expect(() => checkRunShape(sizes, 500)).toThrow(InvalidRunRequest);
    expect(() => checkRunShape(sizes, 500)).toThrow(
      /1300000 hosts in 650 batches take \d+ Step Functions history events, more than the 22000 a run may plan/,
    );
  });
});
