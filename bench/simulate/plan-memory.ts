/**
 * The memory Plan's read of the nodes table takes: the heap it grows by while choosing targets
 * page by page (what Plan does), and — for fleets small enough to try it — while holding every
 * node item at once (what it did before). Sampled every 5 ms, after a full garbage collection
 * so the baseline is steady (garbage made during the read still counts: an upper bound).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeDirectory } from '#functions/run/node-directory.ts';
import { discoverTargets, parseRunRequest } from '#functions/run/plan-run.ts';
import { newRunId } from '#shared/ids.ts';

export interface PlanMemory {
  /** Peak heap growth (bytes) choosing every host as a target, page by page. */
  pagedPeakBytes: number;
  pagedMs: number;
  targets: number;
  /** Peak heap growth holding the whole table (null: not tried at this size). */
  wholePeakBytes: number | null;
  wholeMs: number | null;
  segments: number;
}

const SEGMENTS = 4;

/** `gc()` without starting node with --expose-gc: the flag set at run time, gc read from a new context. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function peakDuring<T>(work: () => Promise<T>): Promise<{ value: T; peak: number; ms: number }> {
  collector()();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
  const start = Date.now();
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    return { value, peak: peak - base, ms: Date.now() - start };
  } finally {
    clearInterval(timer);
  }
}

export async function measurePlanMemory(
  db: DynamoDBDocumentClient,
  table: string,
  tryWhole: boolean,
): Promise<PlanMemory> {
  const directory = new NodeDirectory(db, table, SEGMENTS);
  const request = parseRunRequest({ runId: newRunId(), command: { shell: 'true' } });
  const paged = await peakDuring(() => discoverTargets(request, directory, Date.now()));
  const whole = tryWhole ? await peakDuring(() => directory.all()) : undefined;
  return {
    pagedPeakBytes: paged.peak,
    pagedMs: paged.ms,
    targets: paged.value.length,
    wholePeakBytes: whole ? whole.peak : null,
    wholeMs: whole ? whole.ms : null,
    segments: SEGMENTS,
  };
}
