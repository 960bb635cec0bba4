/**
 * Error names that cross a process boundary: thrown by a run step (a Lambda function), they reach
 * the state machine as the error name it catches, and the CLI as the execution's `error`. Defined
 * once here and matched by these constants, never by message text.
 */
export const RUN_ERRORS = {
  /** The run request is invalid (schema, filter syntax, limits); nothing was sent. */
  invalidRequest: 'InvalidRunRequest',
  /** No run with this id on the stage (cancel). */
  notFound: 'RunNotFound',
  /** A run with this id exists already: the execution is refused and the run is not touched. */
  exists: 'RunExists',
  /**
   * The run completed and `drover run` would exit 2, 3 or 4 (a host failed, did not answer, was
   * rejected, or the run was cancelled): the run state machine's last state fails the execution
   * with this error so `sls invoke stepf` and the console show it, and the cause is the run's
   * outcome `{runId, status, exitCode, summary}` as JSON. A run that matched no host (exit 1) is
   * no failure (as for schedules) and succeeds. Not an error of drover's: readers treat it as a
   * completed run, and no alarm fires on it.
   */
  hostsFailed: 'HostsFailed',
} as const;

export type RunErrorName = (typeof RUN_ERRORS)[keyof typeof RUN_ERRORS];

/**
 * What the finish step logs (at error level, before anything else) when a step of the run failed:
 * the `RunErrors` metric filter in serverless.yml counts these lines and its alarm fires on them.
 * A run that completed with failed hosts (`HostsFailed`) never logs it, so it never pages anyone.
 */
export const RUN_ERROR_LOG = 'run error: a step of the run failed';

/** What DescribeExecution says of a run execution (the fields these helpers read). */
export interface RunExecutionView {
  status?: string;
  error?: string;
  cause?: string;
  output?: string;
}

/**
 * Whether an execution of the run state machine ended with the run completed: SUCCEEDED (every
 * host succeeded, or nothing to report), or FAILED with `HostsFailed` (completed with failures).
 * Any other end is an error of the run itself (a step failed, a refused request, a timeout).
 */
export function isCompletedRun(execution: RunExecutionView): boolean {
  return (
    execution.status === 'SUCCEEDED' ||
    (execution.status === 'FAILED' && execution.error === RUN_ERRORS.hostsFailed)
  );
}

/**
 * The run's outcome as its execution reports it: the output of a SUCCEEDED execution, the cause
 * of one that FAILED with `HostsFailed` (both `{runId, status, exitCode, summary}`); undefined for
 * any other execution, or one whose text is not JSON.
 */
export function runOutcomeOf(execution: RunExecutionView): Record<string, unknown> | undefined {
  if (!isCompletedRun(execution)) return undefined;
  const text = execution.status === 'SUCCEEDED' ? execution.output : execution.cause;
  try {
    const value: unknown = JSON.parse(text ?? '');
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export class InvalidRunRequest extends Error {
  override name = RUN_ERRORS.invalidRequest;
}

export class RunNotFound extends Error {
  override name = RUN_ERRORS.notFound;
}

export class RunExists extends Error {
  override name = RUN_ERRORS.exists;
}

/** What `drover cancel` (the cancel state machine's `mark` step) found the run in. */
export const CANCEL_OUTCOMES = {
  /** The run was running and is now cancelled. */
  cancelled: 'cancelled',
} as const;

/**
 * The name of a run's execution, and so its id: what Step Functions accepts as an execution name
 * (1–80 characters, letters, digits, `-` and `_`). The CLI uses ULIDs; schedules, lifecycle hooks
 * and `sls invoke stepf` get names Step Functions makes (UUIDs) or the caller's.
 */
export const RUN_ID_PATTERN = /^[0-9A-Za-z_-]{1,80}$/;
