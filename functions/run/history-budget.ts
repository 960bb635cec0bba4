/**
 * The run state machine's execution history, counted as Step Functions counts it, so Plan refuses
 * a run that would outgrow the quota (25,000 events per Standard execution; the execution fails
 * beyond, whatever its Catch blocks) before writing or sending anything. The counts follow
 * state-machines/run.asl.json; test/integration/run-history.test.ts checks them against the
 * history the local Step Functions records, which logs each state as AWS does.
 */

/** Step Functions quota: events in one Standard execution's history (AWS Step Functions quotas). */
export const MAX_HISTORY_EVENTS = 25_000;

/**
 * What a run may plan to use. The other 3,000 events are for what cannot be planned: each retry of
 * a Lambda step adds 3 (TaskFailed, TaskScheduled, TaskStarted), so about a thousand retries.
 */
export const HISTORY_BUDGET = 22_000;

/** Execution started and ended (2), Plan (a Task: 5), HasTargets (a Choice: 2), Finish (5). */
export const FIXED_EVENTS = 2 + 5 + 2 + 5;

/**
 * After Finish, the Outcome Choice (2), then `Succeeded` (a Succeed state: entered, exited), or
 * `HostsFailedCause` (a Pass: 2) and `HostsFailed` (a Fail state: entered only). Plan budgets for
 * the longer.
 */
export const OUTCOME_EVENTS = { succeeded: 2 + 2, hostsFailed: 2 + 2 + 1 } as const;

/**
 * Each batch besides its groups: the Dispatch Map entered, started, succeeded and exited (4),
 * AwaitAcks, AwaitResults and CloseBatch (Tasks: 5 each), MoreBatches (a Choice: 2).
 */
export const EVENTS_PER_BATCH = 4 + 3 * 5 + 2;

/** `--batch-sleep` between two batches: the BatchSleep Wait state entered and exited. */
export const EVENTS_PER_SLEEP = 2;

/** Each dispatch group: MapIterationStarted and Succeeded, and its Dispatch Task (5). */
export const EVENTS_PER_GROUP = 2 + 5;

/**
 * Batches a run may have. 650 batches of one dispatch group each, with sleeps between them, take
 * 19,517 events (30 a batch), leaving room in the budget for 354 more groups (177,000 more hosts
 * at 500 a group). It was 800 before Dispatch fanned out (24 events a batch).
 */
export const MAX_BATCHES = 650;

/**
 * Events of a run whose batches have `groupsPerBatch` dispatch groups each, without retries, ending
 * as `outcome` (by default the longer ending, what Plan budgets for).
 */
export function runHistoryEvents(
  groupsPerBatch: readonly number[],
  batchSleep: boolean,
  outcome: keyof typeof OUTCOME_EVENTS = 'hostsFailed',
): number {
  const batches = groupsPerBatch.length;
  const groups = groupsPerBatch.reduce((sum, g) => sum + g, 0);
  const sleeps = batchSleep ? Math.max(0, batches - 1) : 0;
  return (
    FIXED_EVENTS +
    OUTCOME_EVENTS[outcome] +
    batches * EVENTS_PER_BATCH +
    groups * EVENTS_PER_GROUP +
    sleeps * EVENTS_PER_SLEEP
  );
}
