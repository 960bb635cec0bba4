/** Run ids as operators type them (`drover show`, `drover cancel`). */
import { CliError } from './errors.ts';

/** Run ids are ULIDs (the execution names of the run state machine). */
export function checkRunId(runId: string): void {
  if (!/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i.test(runId)) {
    throw new CliError(`"${runId}" is not a run id (26 characters, e.g. 01JD3X…; drover runs lists them)`);
  }
}
