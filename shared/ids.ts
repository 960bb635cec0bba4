import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new run id: a ULID, so run ids sort by start time and are valid execution names. */
export function newRunId(now: number = Date.now()): string {
  return nextUlid(now);
}

const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;

/**
 * A run id as typed by an operator: a ULID in any case (the CLI's run ids) is upper-cased; any
 * other execution name (a schedule's, a lifecycle hook's, `sls invoke stepf`'s) is kept as is.
 */
export function normalizeRunId(runId: string): string {
  return ULID.test(runId) ? runId.toUpperCase() : runId;
}
