/** Run ids as operators type them (`drover show`, `drover cancel`). */
import { RUN_ID_PATTERN } from '#shared/run-errors.ts';
import { CliError } from './errors.ts';

/** A run id is its execution's name: a ULID when the CLI started it, else any execution name. */
export function checkRunId(runId: string): void {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new CliError(
      `"${runId}" is not a run id (an execution name: 1 to 80 letters, digits, - or _, e.g. 01JD3X…; drover runs lists them)`,
    );
  }
}
