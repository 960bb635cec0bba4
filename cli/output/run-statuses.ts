/** The statuses a run's record can have (shared/runs-table.ts `RunStatus`), for flags and schemas. */
import type { RunStatus } from '#shared/runs-table.ts';

export const RUN_STATUSES = [
  'running',
  'succeeded',
  'failed',
  'no_match',
  'invalid',
  'error',
  'cancelled',
  'skipped',
] as const satisfies readonly RunStatus[];
