/**
 * The history of a local execution in the shape of Step Functions' GetExecutionHistory, built from
 * the emulator's own event log, so a failed state is found locally as in the console. Emulator
 * events without an AWS counterpart (a catch) are left out; the Task steps AWS logs and the
 * emulator does not (scheduled, started, succeeded) are added, so the quota counts as in AWS.
 */
import { SfnApiError } from './sfn-errors.ts';

/** Step Functions' quota of events in one execution's history; the execution fails beyond. */
export const MAX_HISTORY_EVENTS = 25_000;
/** GetExecutionHistory's `maxResults` ceiling (and default page size 100). */
const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

/** One emulator event (aws-local-stepfunctions `EventLog`), the fields we read. */
export interface EmulatorEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  /** Map iteration events: the item's index and the Map state. */
  index?: number;
  parentState?: { name: string; type: string };
}

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Epoch seconds, as the JSON protocol carries timestamps. */
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

const json = (value: unknown) => JSON.stringify(value ?? null);

/** A Lambda error's cause as Step Functions reports it: `{"errorType","errorMessage"}`. */
function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) {
    // The local Lambda runtime's error carries the JSON already; a bare Error gets it built.
    return cause.message.startsWith('{')
      ? cause.message
      : JSON.stringify({ errorType: cause.name, errorMessage: cause.message });
  }
  return json(cause);
}

/** The AWS history event for one emulator event, or undefined when AWS has none. */
type AwsEvent = { type: string } & Record<string, unknown>;

const TASK = { resourceType: 'lambda', resource: 'invoke' };

/**
 * The AWS history events for one emulator event: none when AWS has none, several when AWS logs
 * steps the emulator does not (a Task is entered, scheduled, started, succeeds, is exited: five
 * events in AWS, two in the emulator; a Map is entered, started, succeeds and is exited, each
 * iteration started and succeeded), so the history counts toward the quota as AWS counts it.
 */
function toAws(event: EmulatorEvent): AwsEvent[] {
  const state = event.state;
  const isTask = state?.type === 'Task';
  const isMap = state?.type === 'Map';
  switch (event.type) {
    case 'ExecutionStarted':
      return [{ type: 'ExecutionStarted', executionStartedEventDetails: { input: json(event.input) } }];
    case 'ExecutionSucceeded':
      return [{ type: 'ExecutionSucceeded', executionSucceededEventDetails: { output: json(event.output) } }];
    case 'ExecutionFailed':
      return [
        {
          type: 'ExecutionFailed',
          executionFailedEventDetails: { error: event.Error, cause: causeText(event.Cause) },
        },
      ];
    case 'ExecutionAborted':
      return [{ type: 'ExecutionAborted', executionAbortedEventDetails: {} }];
    case 'ExecutionTimeout':
      return [{ type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} }];
    case 'StateEntered':
      return [
        {
          type: `${state!.type}StateEntered`,
          stateEnteredEventDetails: { name: state!.name, input: json(state!.input) },
        },
        ...(isTask ? taskStart(state!.input) : []),
        // AWS logs a Map's start apart from its entry (with the item count, which the emulator's
        // event does not carry: the iterations that follow say it).
        ...(isMap ? [{ type: 'MapStateStarted', mapStateStartedEventDetails: {} }] : []),
      ];
    case 'StateExited':
      return [
        ...(isTask
          ? [{ type: 'TaskSucceeded', taskSucceededEventDetails: { ...TASK, output: json(state!.output) } }]
          : []),
        ...(isMap ? [{ type: 'MapStateSucceeded' }] : []),
        {
          type: `${state!.type}StateExited`,
          stateExitedEventDetails: { name: state!.name, output: json(state!.output) },
        },
      ];
    case 'StateRetried':
      return isTask ? taskStart(state!.input) : [];
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed':
      return [mapIteration(event)];
    case 'StateFailed': {
      if (isMap) return [{ type: 'MapStateFailed' }];
      if (!isTask) return [];
      const timedOut = event.Error === 'States.Timeout';
      const details = { ...TASK, error: event.Error, cause: causeText(event.Cause) };
      return [
        timedOut
          ? { type: 'TaskTimedOut', taskTimedOutEventDetails: details }
          : { type: 'TaskFailed', taskFailedEventDetails: details },
      ];
    }
    default:
      return [];
  }
}

/** An iteration of a Map state, as AWS logs it: the Map's name and the item's index. */
function mapIteration(event: EmulatorEvent): AwsEvent {
  const details = { name: event.parentState?.name, index: event.index };
  const key = `m${event.type.slice(1)}EventDetails`;
  return { type: event.type, [key]: details };
}

function taskStart(input: unknown): AwsEvent[] {
  return [
    {
      type: 'TaskScheduled',
      taskScheduledEventDetails: { ...TASK, region: 'local', parameters: json(input) },
    },
    { type: 'TaskStarted', taskStartedEventDetails: TASK },
  ];
}

/** An execution's history as it happens: appended to by the emulator's event log. */
export class ExecutionHistory {
  readonly events: HistoryEvent[] = [];

  #closed = false;

  /**
   * Adds one emulator event; returns false when it would take the history past Step Functions'
   * quota (it is not kept: the execution is to fail).
   */
  add(event: EmulatorEvent): boolean {
    if (this.#closed) return true;
    const aws = this.#afterFailure(event, toAws(event));
    if (this.events.length + aws.length > MAX_HISTORY_EVENTS) return false;
    this.#push(aws, event.timestamp);
    return true;
  }

  /** Task states (by name and Map iteration) whose last attempt failed and was not retried. */
  readonly #failed = new Set<string>();

  /**
   * The emulator exits a Task whose failure a Catch took as if it succeeded: AWS logs the failure
   * (TaskFailed, TaskTimedOut) and no TaskSucceeded, so that one is dropped.
   */
  #afterFailure(event: EmulatorEvent, aws: AwsEvent[]): AwsEvent[] {
    if (event.state?.type !== 'Task') return aws;
    const key = `${event.state.name}#${event.index ?? ''}`;
    if (event.type === 'StateFailed') this.#failed.add(key);
    if (event.type === 'StateRetried') this.#failed.delete(key);
    if (event.type !== 'StateExited' || !this.#failed.delete(key)) return aws;
    return aws.filter((e) => e.type !== 'TaskSucceeded');
  }

  /** Ends the history with the failure the local Step Functions gave the execution (a quota). */
  fail(error: string, cause: string): void {
    if (this.#closed) return;
    this.#push(
      toAws({ type: 'ExecutionFailed', timestamp: Date.now(), Error: error, Cause: cause }),
      Date.now(),
    );
    this.#closed = true;
  }

  #push(events: AwsEvent[], timestampMs: number): void {
    for (const aws of events) {
      const id = this.events.length + 1;
      this.events.push({
        ...aws,
        type: aws.type,
        id,
        previousEventId: id - 1,
        timestamp: timestampMs / 1000,
      });
    }
  }

  /** One page of GetExecutionHistory. */
  page(request: { maxResults?: unknown; nextToken?: unknown; reverseOrder?: unknown }): {
    events: HistoryEvent[];
    nextToken?: string;
  } {
    const max =
      request.maxResults === undefined || request.maxResults === 0 ? DEFAULT_PAGE : request.maxResults;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > MAX_PAGE) {
      throw new SfnApiError(
        'ValidationException',
        `1 validation error detected: Value '${String(max)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_PAGE}`,
      );
    }
    const start = request.nextToken === undefined ? 0 : Number(request.nextToken);
    if (!Number.isInteger(start) || start < 0 || start > this.events.length) {
      throw new SfnApiError('InvalidToken', 'Invalid Token: the nextToken is not one this API returned');
    }
    const ordered = request.reverseOrder === true ? [...this.events].reverse() : this.events;
    const events = ordered.slice(start, start + max);
    const next = start + max;
    return next < ordered.length ? { events, nextToken: String(next) } : { events };
  }
}
