/**
 * How many receive loops the local replies event source runs (event-source.ts). Standard mode:
 * 4, below the 5 concurrent batches Lambda starts an SQS event source with, so local is never
 * faster to start than AWS. With the stage's `ingestMinPollers` (provisioned mode), AWS keeps at
 * least that many event pollers ready from the start; the local stack starts as wide, checked
 * against the same range `sls package` checks (shared/large-fleet.ts).
 */
import { ingestPollers } from '#shared/large-fleet.ts';

export const STANDARD_LOCAL_POLLERS = 4;

export function localIngestPollers(minimumPollers: number | undefined): number {
  if (minimumPollers === undefined || minimumPollers === 0) return STANDARD_LOCAL_POLLERS;
  const provisioned = ingestPollers(String(minimumPollers), '0');
  return Math.max(STANDARD_LOCAL_POLLERS, provisioned?.minimum ?? 0);
}
