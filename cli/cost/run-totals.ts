/**
 * `drover runs --total-by caller|schedule|day`: the estimated cost of the listed runs, summed per
 * group. A run's cost comes from its record alone (hosts, batches, duration), with the model's
 * output size per host: the listing reads no node items (that would cost more than it reports).
 */
import type { RunMetaItem } from '#shared/runs-table.ts';
import { estimateRunCost } from './run-cost.ts';

export const TOTAL_BY = ['caller', 'schedule', 'day'] as const;
export type TotalBy = (typeof TOTAL_BY)[number];

/** The group of runs started by hand (no schedule), in the schedule grouping. */
export const NO_SCHEDULE = '(by hand)';

export interface RunTotal {
  key: string;
  runs: number;
  hosts: number;
  usd: number;
}

/** A run's estimated cost from its record (duration: from planning to its end, when ended). */
export function runRecordCost(meta: RunMetaItem): number {
  const elapsedMs =
    meta.startedAt !== undefined && meta.finishedAt !== undefined ? meta.finishedAt - meta.startedAt : 0;
  return estimateRunCost({ hosts: meta.expected, batches: meta.batchCount, watchSeconds: elapsedMs / 1000 })
    .usd;
}

/** The schedule that started a run; runs started by hand (and older records) have none. */
export function scheduleOf(meta: RunMetaItem): string | undefined {
  return meta.schedule || undefined;
}

export function groupKey(meta: RunMetaItem, by: TotalBy): string {
  if (by === 'caller') return meta.caller;
  if (by === 'schedule') return scheduleOf(meta) ?? NO_SCHEDULE;
  return new Date(meta.createdAt).toISOString().slice(0, 10); // UTC day
}

/** Totals per group, the costliest first (ties by key, so the order is stable). */
export function runTotals(runs: readonly RunMetaItem[], by: TotalBy): RunTotal[] {
  const totals = new Map<string, RunTotal>();
  for (const run of runs) {
    const key = groupKey(run, by);
    const total = totals.get(key) ?? { key, runs: 0, hosts: 0, usd: 0 };
    total.runs += 1;
    total.hosts += run.expected;
    total.usd += runRecordCost(run);
    totals.set(key, total);
  }
  const sorted = [...totals.values()].sort((a, b) => b.usd - a.usd || a.key.localeCompare(b.key));
  return by === 'day' ? sorted.sort((a, b) => b.key.localeCompare(a.key)) : sorted;
}
