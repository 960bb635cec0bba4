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
} as const;

export type RunErrorName = (typeof RUN_ERRORS)[keyof typeof RUN_ERRORS];

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
