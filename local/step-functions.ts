/**
 * Step Functions on one machine: runs the ASL files with aws-local-stepfunctions, mapping every
 * Task state to the handler deployed for its function, and provides what that emulator lacks:
 * pausing `.waitForTaskToken` tasks until SendTaskSuccess/SendTaskFailure, and the execution
 * bookkeeping of the API (describe, list, stop).
 */
import './polyfills.ts';
import { randomBytes } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import type { LambdaRuntime } from './lambda-runtime.ts';
import { checkPayloadParameter, MAX_PAYLOAD_BYTES, SfnApiError } from './sfn-errors.ts';
import { ExecutionHistory, MAX_HISTORY_EVENTS, type EmulatorEvent } from './execution-history.ts';
import { capInlineMaps } from './sfn-map-limit.ts';

const TOKEN_PLACEHOLDER = 'drover-local-task-token';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

export { SfnApiError } from './sfn-errors.ts';

interface PendingTask {
  executionArn: string;
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
}

interface Running {
  record: ExecutionRecord;
  abort: () => void;
  history: ExecutionHistory;
}

export interface StateMachineRecord {
  stateMachineArn: string;
  name: string;
  definition: string;
  creationDate: number;
}

type Json = Record<string, unknown>;

export class LocalStepFunctions {
  readonly #machines = new Map<
    string,
    { definition: Json; machine: StateMachine; name: string; creationDate: number }
  >();
  readonly #executions = new Map<string, Running>();
  readonly #tasks = new Map<string, PendingTask>();

  constructor(
    private readonly lambdas: LambdaRuntime,
    private readonly arnPrefix: string,
  ) {}

  /** Registers a definition under `name`; returns its ARN. */
  createStateMachine(name: string, definition: Json): string {
    const arn = `${this.arnPrefix}stateMachine:${name}`;
    this.#machines.set(arn, {
      definition,
      machine: new StateMachine(capInlineMaps(definition) as never),
      name,
      creationDate: Date.now(),
    });
    return arn;
  }

  describeStateMachine(stateMachineArn: string): StateMachineRecord {
    const entry = this.#machines.get(stateMachineArn);
    if (!entry)
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return {
      stateMachineArn,
      name: entry.name,
      definition: JSON.stringify(entry.definition),
      creationDate: entry.creationDate,
    };
  }

  listStateMachines(): StateMachineRecord[] {
    return [...this.#machines.keys()].map((arn) => this.describeStateMachine(arn));
  }

  /** The execution's history so far, in the shape of GetExecutionHistory. */
  executionHistory(executionArn: string): ExecutionHistory {
    const running = this.#executions.get(executionArn);
    if (!running)
      throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return running.history;
  }

  startExecution(stateMachineArn: string, name: string, input: string): ExecutionRecord {
    const entry = this.#machines.get(stateMachineArn);
    if (!entry)
      throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    if (!/^[0-9A-Za-z_-]{1,80}$/.test(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const machineName = stateMachineArn.slice(stateMachineArn.lastIndexOf(':') + 1);
    const executionArn = `${this.arnPrefix}execution:${machineName}:${name}`;
    checkPayloadParameter('input', input);
    const existing = this.#executions.get(executionArn)?.record;
    if (existing) {
      // AWS: a name is used once (for 90 days). Asking again for an open execution with the very
      // same input is idempotent (its ARN and start date come back); a different input, or a
      // closed execution whatever the input, is ExecutionAlreadyExists.
      if (existing.status === 'RUNNING' && existing.input === input) return existing;
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SfnApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not JSON');
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn,
      name,
      status: 'RUNNING',
      startDate: Date.now(),
      input,
    };
    const execution = entry.machine.run(parsedInput as never, {
      // The emulator types handler results as JSON values; ours are JSON too, typed unknown.
      overrides: { taskResourceLocalHandlers: this.#taskHandlers(entry.definition, executionArn) as never },
      context: {
        Execution: {
          Id: executionArn,
          Name: name,
          Input: parsedInput as never,
          StartTime: new Date(record.startDate).toISOString(),
        },
        StateMachine: { Id: stateMachineArn, Name: machineName },
        Task: { Token: TOKEN_PLACEHOLDER },
      },
    });
    const history = new ExecutionHistory();
    this.#executions.set(executionArn, { record, abort: () => execution.abort(), history });
    void this.#recordHistory(record, execution.eventLogs as AsyncIterable<EmulatorEvent>, history);
    execution.result.then(
      (output: unknown) =>
        this.#settle(record, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (error: unknown) => {
        if (record.status === 'ABORTED') return this.#settle(record, {});
        // The emulator wraps the failing state's error in an ExecutionError; the API reports the inner one.
        const outer = error instanceof Error ? error : new Error(String(error));
        const e = outer.name === 'ExecutionError' && outer.cause instanceof Error ? outer.cause : outer;
        const failed = e.name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED';
        this.#settle(record, { status: failed, error: e.name, cause: e.message });
      },
    );
    return record;
  }

  describeExecution(executionArn: string): ExecutionRecord {
    const running = this.#executions.get(executionArn);
    if (!running)
      throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return running.record;
  }

  listExecutions(stateMachineArn: string, statusFilter?: ExecutionStatus): ExecutionRecord[] {
    return [...this.#executions.values()]
      .map((r) => r.record)
      .filter((r) => r.stateMachineArn === stateMachineArn && (!statusFilter || r.status === statusFilter))
      .sort((a, b) => b.startDate - a.startDate);
  }

  stopExecution(executionArn: string, error?: string, cause?: string): number {
    const running = this.#executions.get(executionArn);
    if (!running)
      throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    if (running.record.status === 'RUNNING') {
      this.#settle(running.record, { status: 'ABORTED', error, cause });
      running.abort();
    }
    return running.record.stopDate ?? Date.now();
  }

  sendTaskSuccess(token: string, output: string): void {
    checkPayloadParameter('output', output);
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch {
      throw new SfnApiError('InvalidOutput', 'Invalid Output: not JSON');
    }
    this.#takeTask(token).resolve(parsed);
  }

  sendTaskFailure(token: string, error?: string, cause?: string): void {
    const failure = new Error(cause ?? '');
    failure.name = error ?? 'TaskFailed';
    this.#takeTask(token).reject(failure);
  }

  sendTaskHeartbeat(token: string): void {
    if (!this.#tasks.has(token)) throw new SfnApiError('TaskDoesNotExist', 'Task Does Not Exist');
  }

  /** Stops every running execution (the local stack is shutting down). */
  stopAll(): void {
    for (const { record } of this.#executions.values()) {
      if (record.status === 'RUNNING')
        this.stopExecution(record.executionArn, 'States.Aborted', 'local stack stopped');
    }
  }

  /**
   * Keeps the execution's history from the emulator's events, and fails the execution when it
   * outgrows Step Functions' quota of events, as AWS does.
   */
  async #recordHistory(
    record: ExecutionRecord,
    events: AsyncIterable<EmulatorEvent>,
    history: ExecutionHistory,
  ): Promise<void> {
    for await (const event of events) {
      if (!history.add(event) && record.status === 'RUNNING') {
        this.#fail(
          record,
          'States.Runtime',
          `the execution history reached ${MAX_HISTORY_EVENTS} events, the Step Functions quota`,
        );
      }
    }
  }

  /** Ends an execution with an error no Catch can handle (a quota), as Step Functions does. */
  #fail(record: ExecutionRecord, error: string, cause: string): void {
    this.#settle(record, { status: 'FAILED', error, cause });
    const running = this.#executions.get(record.executionArn);
    running?.history.fail(error, cause);
    running?.abort();
  }

  /** A Task state's result over the payload quota fails the execution (`States.DataLimitExceeded`). */
  #checkStatePayload(result: unknown, executionArn: string, stateName: string): unknown {
    const bytes = Buffer.byteLength(JSON.stringify(result ?? null), 'utf8');
    if (bytes <= MAX_PAYLOAD_BYTES) return result;
    const running = this.#executions.get(executionArn);
    const cause = `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit (${bytes} > ${MAX_PAYLOAD_BYTES}).`;
    if (running) this.#fail(running.record, 'States.DataLimitExceeded', cause);
    throw new SfnApiError('States.DataLimitExceeded', cause);
  }

  #takeTask(token: string): PendingTask {
    const task = this.#tasks.get(token);
    if (!task) throw new SfnApiError('TaskTimedOut', 'Task Timed Out or does not exist');
    this.#tasks.delete(token);
    return task;
  }

  #settle(record: ExecutionRecord, change: Partial<ExecutionRecord>): void {
    if (record.status === 'RUNNING') Object.assign(record, change, { stopDate: Date.now() });
    // Tokens of a finished execution are dead: SendTaskSuccess on them reports TaskTimedOut.
    for (const [token, task] of this.#tasks)
      if (task.executionArn === record.executionArn) this.#tasks.delete(token);
  }

  /** One local handler per Task state, keyed by state name as the emulator expects. */
  #taskHandlers(
    definition: Json,
    executionArn: string,
  ): Record<string, (input: unknown) => Promise<unknown>> {
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, state] of allStates(definition)) {
      if (state.Type !== 'Task' || typeof state.Resource !== 'string') continue;
      const resource = state.Resource;
      handlers[stateName] = async (input) =>
        this.#checkStatePayload(
          await this.#runTask(resource, input as Json, executionArn, stateName),
          executionArn,
          stateName,
        );
    }
    return handlers;
  }

  async #runTask(resource: string, input: Json, executionArn: string, stateName: string): Promise<unknown> {
    if (resource === 'arn:aws:states:::lambda:invoke') {
      const payload = await this.lambdas.invoke(String(input.FunctionName), input.Payload ?? {});
      return { ExecutedVersion: '$LATEST', Payload: payload ?? null, StatusCode: 200 };
    }
    if (resource === 'arn:aws:states:::lambda:invoke.waitForTaskToken') {
      const token = randomBytes(24).toString('base64url');
      const { promise, resolve, reject } = Promise.withResolvers<unknown>();
      this.#tasks.set(token, { executionArn, resolve, reject });
      await this.lambdas.invoke(String(input.FunctionName), replaceToken(input.Payload ?? {}, token));
      return promise;
    }
    if (this.lambdas.resolveName(resource)) return this.lambdas.invoke(resource, input);
    throw new SfnApiError(
      'States.Runtime',
      `state ${stateName}: resource ${resource} is not supported locally`,
    );
  }
}

function* allStates(definition: Json): Generator<[string, Json]> {
  const states = (definition.States ?? {}) as Record<string, Json>;
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    for (const branch of (state.Branches ?? []) as Json[]) yield* allStates(branch);
    const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
    if (processor) yield* allStates(processor);
  }
}

function replaceToken(value: unknown, token: string): unknown {
  if (value === TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((v) => replaceToken(v, token));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceToken(v, token)]));
  }
  return value;
}
