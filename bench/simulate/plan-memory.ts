/**
 * The memory Plan's read of the nodes table takes: the heap it grows by while choosing targets
 * page by page (what Plan does), and — for fleets small enough to try it — while holding every
 * node item at once (what it did before). Sampled every 5 ms, after a full garbage collection
 * so the baseline is steady (garbage made during the read still counts: an upper bound).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { discoverTargets, parseRunRequest } from '#functions/run/plan-run.ts';
import { newRunId } from '#shared/ids.ts';

export interface PlanMemory {
  /** Peak heap growth (bytes) choosing every host as a target, page by page. */
  pagedPeakBytes: number;
  /** Heap still held by the targets after a garbage collection. */
  pagedRetainedBytes: number;
  pagedMs: number;
  targets: number;
  /** Peak heap growth holding the whole table (null: not tried at this size). */
  wholePeakBytes: number | null;
  wholeRetainedBytes: number | null;
  wholeMs: number | null;
  segments: number;
}

const SEGMENTS = 4;

/** `gc()` without starting node with --expose-gc: the flag set at run time, gc read from a new context. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function peakDuring<T>(
  work: () => Promise<T>,
): Promise<{ value: T; peak: number; retained: number; ms: number }> {
  const gc = collector();
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 5);
  const start = Date.now();
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
    const ms = Date.now() - start;
    gc(); // what stays while the result is held: Plan's working set once the pages are garbage
    return { value, peak: peak - base, retained: process.memoryUsage().heapUsed - base, ms };
  } finally {
    clearInterval(timer);
  }
}

export async function measurePlanMemory(
  db: DynamoDBDocumentClient,
  table: string,
  tryWhole: boolean,
): Promise<PlanMemory> {
  const directory = new NodesStore(db, table, SEGMENTS);
  const request = parseRunRequest({ runId: newRunId(), command: { shell: 'true' } });
  const paged = await peakDuring(() => discoverTargets(request, directory, Date.now()));
  const whole = tryWhole ? await peakDuring(() => directory.all()) : undefined;
  return {
    pagedPeakBytes: paged.peak,
    pagedRetainedBytes: paged.retained,
    pagedMs: paged.ms,
    targets: paged.value.length,
    wholePeakBytes: whole ? whole.peak : null,
    wholeRetainedBytes: whole ? whole.retained : null,
    wholeMs: whole ? whole.ms : null,
    segments: SEGMENTS,
  };
}
