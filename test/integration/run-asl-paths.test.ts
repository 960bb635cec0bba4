/**
 * Every path of state-machines/run.asl.json, as in AWS's serverless-test-samples: the ASL runs in
 * the same emulator as the local stack (aws-local-stepfunctions), each Task state answered by a
 * scripted handler, so each Catch and each Retry block is driven on purpose. The handlers' own
 * behaviour is tested elsewhere (run-state-machine.test.ts runs the real ones).
 */
import '../../local/polyfills.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { isCompletedRun, runOutcomeOf, RUN_ERRORS } from '#shared/run-errors.ts';
import { ROOT } from '../helpers/processes.ts';

const definition = JSON.parse(
  readFileSync(join(ROOT, 'state-machines', 'run.asl.json'), 'utf8'),
) as StateMachineDefinition;

const RUN_ID = 'run-under-test';
const TASKS = [
  'Plan',
  'DispatchGroup',
  'AwaitAcks',
  'AwaitResults',
  'CloseBatch',
  'Finish',
  'FinishFailed',
] as const;
type Task = (typeof TASKS)[number];
type Handler = (input: Record<string, unknown>) => unknown;

const planned = {
  runId: RUN_ID,
  batch: 0,
  batchCount: 1,
  batchSleepSec: 0,
  timeouts: { ackSec: 1, resultSec: 1 },
  more: true,
  groups: [0],
};

/** A Lambda error as the lambda:invoke integration reports it: named by the function's errorType. */
function lambdaError(name: string, message = `${name} from the test`): Error {
  const error = new Error(JSON.stringify({ errorType: name, errorMessage: message }));
  error.name = name;
  return error;
}

const failing =
  (name: string, times = Infinity): Handler =>
  () => {
    if (times-- > 0) throw lambdaError(name);
    return undefined;
  };

/** Runs the machine with default handlers for the happy path, overridden by `script`. */
async function execute(script: Partial<Record<Task, Handler>> = {}) {
  const calls: { state: Task; payload: Record<string, unknown> }[] = [];
  const defaults: Record<Task, Handler> = {
    Plan: () => planned,
    DispatchGroup: () => ({ sent: 1, unreachable: 0 }),
    AwaitAcks: () => ({ phase: 'acks' }),
    AwaitResults: () => ({ phase: 'results' }),
    CloseBatch: (p) => ({ ...p, more: false, groups: [] }),
    Finish: () => ({ runId: RUN_ID, status: 'succeeded', exitCode: 0 }),
    FinishFailed: () => ({ runId: RUN_ID, status: 'error', exitCode: 4 }),
  };
  const handlers = Object.fromEntries(
    TASKS.map((state) => [
      state,
      async (input: unknown) => {
        const payload = (input as { Payload: Record<string, unknown> }).Payload;
        calls.push({ state, payload });
        const handler = script[state] ?? defaults[state];
        const result = await handler(payload);
        return { Payload: result ?? defaults[state](payload), StatusCode: 200 };
      },
    ]),
  );
  const retryIntervalOverrides = Object.fromEntries(TASKS.map((state) => [state, 0]));
  const execution = new StateMachine(definition).run(
    { caller: 'test', command: { shell: 'true' } },
    {
      overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides },
      context: {
        Execution: { Id: `arn:execution:${RUN_ID}`, Name: RUN_ID, StartTime: '2026-12-01T00:00:00.000Z' },
        Task: { Token: 'token' },
      },
    },
  );
  let output: unknown;
  let error: (Error & { cause?: unknown }) | undefined;
  try {
    output = await execution.result;
  } catch (e: unknown) {
    const outer = e as Error;
    // The emulator wraps the failing state's error; the execution's error is the inner one.
    error = outer.name === 'ExecutionError' && outer.cause instanceof Error ? outer.cause : outer;
  }
  const states = calls.map((c) => c.state);
  return { output, error, calls, states, payloadOf: (s: Task) => calls.find((c) => c.state === s)?.payload };
}

describe('run.asl.json paths', () => {
  it('goes plan, dispatch, both waits, close, finish on the happy path; the output is Finish’s', async () => {
    const { states, output, payloadOf } = await execute();

    expect(states).toEqual(['Plan', 'DispatchGroup', 'AwaitAcks', 'AwaitResults', 'CloseBatch', 'Finish']);
    expect(output).toEqual({ runId: RUN_ID, status: 'succeeded', exitCode: 0 });
    expect(payloadOf('Plan')).toEqual({
      request: { caller: 'test', command: { shell: 'true' } },
      execution: { name: RUN_ID, startTime: expect.any(String) },
    });
    expect(payloadOf('Finish')).toEqual({ runId: RUN_ID });
  });

  it('fails a run drover run would exit non-zero from as HostsFailed, its outcome as the cause', async () => {
    const outcome = {
      runId: RUN_ID,
      status: 'failed',
      exitCode: 2,
      summary: { expected: 2, succeeded: 1, failed: 1, exitCodes: { '0': 1, '1': 1 } },
    };
    const { states, output, error } = await execute({ Finish: () => outcome });

    expect(states.at(-1)).toBe('Finish');
    expect(output).toBeUndefined();
    expect(error?.name).toBe(RUN_ERRORS.hostsFailed);
    expect(JSON.parse(error!.message)).toEqual(outcome);
    // What a reader of DescribeExecution makes of it: a completed run, with the same outcome.
    const described = { status: 'FAILED', error: error!.name, cause: error!.message };
    expect(isCompletedRun(described)).toBe(true);
    expect(runOutcomeOf(described)).toEqual(outcome);
  });

  it('succeeds a run that matched no host (exit 1, no failure), its outcome as the output', async () => {
    const outcome = { runId: RUN_ID, status: 'no_match', exitCode: 1 };
    const { output, error } = await execute({ Finish: () => outcome });

    expect(error).toBeUndefined();
    expect(output).toEqual(outcome);
  });

  for (const exitCode of [3, 4]) {
    it(`fails the execution as HostsFailed for exit code ${exitCode} too`, async () => {
      const { error } = await execute({ Finish: () => ({ runId: RUN_ID, status: 'failed', exitCode }) });

      expect(error?.name).toBe(RUN_ERRORS.hostsFailed);
      expect(JSON.parse(error!.message)).toMatchObject({ exitCode });
    });
  }

  it('keeps a step failure a step failure: not HostsFailed, not a completed run', async () => {
    const { error } = await execute({ DispatchGroup: failing('Boom') });

    expect(error?.name).toBe('Boom');
    expect(isCompletedRun({ status: 'FAILED', error: error!.name, cause: error!.message })).toBe(false);
    expect(runOutcomeOf({ status: 'FAILED', error: error!.name, cause: error!.message })).toBeUndefined();
  });

  it('moves on to the results wait when the acknowledgement wait times out (not an error)', async () => {
    const { states, error } = await execute({ AwaitAcks: () => new Promise(() => {}) });

    expect(error).toBeUndefined();
    expect(states).toEqual(['Plan', 'DispatchGroup', 'AwaitAcks', 'AwaitResults', 'CloseBatch', 'Finish']);
  });

  it('moves on to close the batch when the results wait times out (not an error)', async () => {
    const { states, error } = await execute({ AwaitResults: () => new Promise(() => {}) });

    expect(error).toBeUndefined();
    expect(states).toEqual(['Plan', 'DispatchGroup', 'AwaitAcks', 'AwaitResults', 'CloseBatch', 'Finish']);
  });

  it('ends a run whose id exists as RunExists, without any finish step', async () => {
    const { states, error } = await execute({ Plan: failing('RunExists') });

    expect(states).toEqual(['Plan']);
    expect(error?.name).toBe('RunExists');
  });

  for (const state of [
    'Plan',
    'DispatchGroup',
    'AwaitAcks',
    'AwaitResults',
    'CloseBatch',
    'Finish',
  ] as const) {
    it(`carries a failure of ${state} to FinishFailed, then fails the execution with it`, async () => {
      const { states, error, payloadOf } = await execute({ [state]: failing('Boom') });

      expect(states.at(-2)).toBe(state);
      expect(states.at(-1)).toBe('FinishFailed');
      expect(payloadOf('FinishFailed')).toEqual({
        runId: RUN_ID,
        error: {
          Error: 'Boom',
          Cause: JSON.stringify({ errorType: 'Boom', errorMessage: 'Boom from the test' }),
        },
      });
      expect(error?.name).toBe('Boom');
    });
  }

  it('fails the execution with the step’s error even when FinishFailed cannot record it', async () => {
    const { states, error } = await execute({
      DispatchGroup: failing('Boom'),
      FinishFailed: failing('AlsoBroken'),
    });

    expect(states).toEqual(['Plan', 'DispatchGroup', 'FinishFailed']);
    expect(error?.name).toBe('Boom');
  });

  for (const state of TASKS) {
    it(`retries ${state} after a Lambda service error, and goes on`, async () => {
      const script: Partial<Record<Task, Handler>> = { [state]: failing('Lambda.ServiceException', 2) };
      if (state === 'FinishFailed') script.DispatchGroup = failing('Boom');

      const { states } = await execute(script);

      expect(states.filter((s) => s === state)).toHaveLength(3);
      expect(states.at(-1)).toBe(state === 'FinishFailed' ? 'FinishFailed' : 'Finish');
    });
  }

  it('gives up retrying after 3 retries and takes the catch', async () => {
    const { states, error } = await execute({ DispatchGroup: failing('Lambda.TooManyRequestsException') });

    expect(states.filter((s) => s === 'DispatchGroup')).toHaveLength(4);
    expect(states.at(-1)).toBe('FinishFailed');
    expect(error?.name).toBe('Lambda.TooManyRequestsException');
  });

  it('does not retry an error of the function itself', async () => {
    const { states } = await execute({ CloseBatch: failing('TypeError') });

    expect(states.filter((s) => s === 'CloseBatch')).toHaveLength(1);
  });

  describe('dispatch fan-out (the Dispatch Map)', () => {
    const dispatched = (calls: { state: Task; payload: Record<string, unknown> }[]) =>
      calls
        .filter((c) => c.state === 'DispatchGroup')
        .map((c) => c.payload)
        .sort((a, b) => Number(a.batch) - Number(b.batch) || Number(a.group) - Number(b.group));

    it('invokes Dispatch once per group of the batch with the group’s key, never hosts', async () => {
      const { calls, states, payloadOf } = await execute({ Plan: () => ({ ...planned, groups: [0, 1, 2] }) });

      expect(dispatched(calls)).toEqual([0, 1, 2].map((group) => ({ runId: RUN_ID, batch: 0, group })));
      expect(states.slice(-4)).toEqual(['AwaitAcks', 'AwaitResults', 'CloseBatch', 'Finish']);
      // The Map's results are discarded: the waits and CloseBatch get the state Plan returned.
      expect(payloadOf('CloseBatch')).toEqual({ ...planned, groups: [0, 1, 2] });
    });

    it('dispatches the groups CloseBatch names for the next batch', async () => {
      let closes = 0;
      const { calls } = await execute({
        Plan: () => ({ ...planned, batchCount: 2, groups: [0] }),
        CloseBatch: (p) => (closes++ === 0 ? { ...p, batch: 1, groups: [0, 1] } : { ...p, more: false }),
      });

      expect(dispatched(calls)).toEqual([
        { runId: RUN_ID, batch: 0, group: 0 },
        { runId: RUN_ID, batch: 1, group: 0 },
        { runId: RUN_ID, batch: 1, group: 1 },
      ]);
    });

    it('goes on to the waits when a batch has no group (nothing to send)', async () => {
      const { states } = await execute({ Plan: () => ({ ...planned, groups: [] }) });

      expect(states).toEqual(['Plan', 'AwaitAcks', 'AwaitResults', 'CloseBatch', 'Finish']);
    });

    it('fails the run through FinishFailed when one group’s Dispatch fails, naming its error', async () => {
      const { states, error, payloadOf } = await execute({
        Plan: () => ({ ...planned, groups: [0, 1, 2] }),
        DispatchGroup: (p) => {
          if (p.group === 1) throw lambdaError('GroupBroke');
          return { sent: 1, unreachable: 0 };
        },
      });

      expect(states.at(-1)).toBe('FinishFailed');
      expect(states).not.toContain('AwaitAcks');
      expect(payloadOf('FinishFailed')).toMatchObject({ error: { Error: 'GroupBroke' } });
      expect(error?.name).toBe('GroupBroke');
    });

    it('retries one group’s Dispatch after a Lambda service error without sending the others again', async () => {
      let failures = 1;
      const { calls, states } = await execute({
        Plan: () => ({ ...planned, groups: [0, 1] }),
        DispatchGroup: (p) => {
          if (p.group === 1 && failures-- > 0) throw lambdaError('Lambda.ServiceException');
          return { sent: 1, unreachable: 0 };
        },
      });

      expect(dispatched(calls).map((p) => p.group)).toEqual([0, 1, 1]);
      expect(states.at(-1)).toBe('Finish');
    });

    it('runs at most 40 groups at once (MaxConcurrency, the inline Map’s limit)', async () => {
      const map = (definition.States as Record<string, { MaxConcurrency?: number }>).Dispatch!;
      expect(map.MaxConcurrency).toBeGreaterThan(0);
      expect(map.MaxConcurrency).toBeLessThanOrEqual(40);
      let inFlight = 0;
      let most = 0;
      const { calls } = await execute({
        Plan: () => ({ ...planned, groups: Array.from({ length: 100 }, (_, i) => i) }),
        DispatchGroup: async () => {
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight--;
          return { sent: 1, unreachable: 0 };
        },
      });

      expect(dispatched(calls)).toHaveLength(100);
      expect(most).toBe(map.MaxConcurrency);
    });
  });
});
