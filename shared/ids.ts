import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new run id: a ULID, so run ids sort by start time and are valid execution names. */
export function newRunId(now: number = Date.now()): string {
  return nextUlid(now);
}
