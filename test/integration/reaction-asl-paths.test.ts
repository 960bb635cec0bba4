/**
 * The new ASL paths whose failures the stack's real functions cannot be made to produce: the
 * state machines run on the local Step Functions emulator with a scripted Lambda runtime that
 * answers each step as told (as run-asl-paths.test.ts does for the run machine).
 * - reaction.asl.json: the Wait to the window's end, then Fire, retried after a failure.
 * - lifecycle.asl.json's terminate path: ReactionsPending failing, AwaitReaction failing, and
 *   AwaitReaction timing out all record and go on to the decommission run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalStepFunctions } from '#local/step-functions.ts';
import type { LambdaRuntime } from '#local/lambda-runtime.ts';
import { substituteFunctionArns } from '#local/stack.ts';
import { eventually } from '../helpers/wait.ts';

type Json = Record<string, unknown>;
type Script = (payload: Json, sfn: LocalStepFunctions) => unknown;

const ROOT = join(import.meta.dirname, '../..');
const asl = (name: string): Json =>
  JSON.parse(
    substituteFunctionArns(readFileSync(join(ROOT, `state-machines/${name}.asl.json`), 'utf8'), (fn) => fn),
  ) as Json;

let sfn: LocalStepFunctions | undefined;
afterEach(() => sfn?.stopAll());

/** A state machine on an emulator whose functions answer by `scripts[function][step]`. */
function machine(name: string, scripts: Record<string, Record<string, Script>>) {
  const calls: string[] = [];
  const lambdas = {
    resolveName: () => undefined,
    invoke: async (fn: string, payload: Json) => {
      const step = String(payload.step);
      calls.push(`${fn}:${step}`);
      const script = scripts[fn]?.[step];
      if (!script) throw new Error(`no script for ${fn}:${step}`);
      return script(payload, local);
    },
  } as unknown as LambdaRuntime;
  const local = new LocalStepFunctions(lambdas, 'arn:aws:states:us-east-1:000000000000:');
  sfn = local;
  const arn = local.createStateMachine(name, asl(name));
  const run = async (input: Json) => {
    const { executionArn } = local.startExecution(arn, `t-${Date.now()}`, JSON.stringify(input));
    const done = await eventually(
      async () => {
        const d = local.describeExecution(executionArn);
        return d.status === 'RUNNING' ? undefined : d;
      },
      30_000,
      `${name} to end`,
    );
    return { ...done, output: done.output ? (JSON.parse(done.output) as Json) : undefined, calls };
  };
  return { run, calls };
}

/** Releases a wait, as the Run Completed rule does. */
const release = (payload: Json, local: LocalStepFunctions) =>
  void setTimeout(() => local.sendTaskSuccess(String(payload.token), '{"done":true}'), 10);

describe('reaction.asl.json', () => {
  it('waits for the window to close, then fires it; a failed Fire is retried', async () => {
    let fires = 0;
    let firedAt = 0;
    const fireAt = new Date(Date.now() + 1_000).toISOString();
    const { run } = machine('reaction', {
      react: {
        fire: () => {
          firedAt = Date.now();
          if (++fires === 1) throw new Error('ThrottlingException');
          return { runId: 'r-1', hostCount: 2, started: true };
        },
      },
    });

    const out = await run({ runId: 'r-1', fireAt });

    expect(out.status).toBe('SUCCEEDED');
    expect(fires).toBe(2);
    expect(firedAt).toBeGreaterThanOrEqual(Date.parse(fireAt));
    expect(out.output).toEqual({ runId: 'r-1', hostCount: 2, started: true });
  }, 40_000);
});

describe('lifecycle.asl.json, terminate with reactions', () => {
  const action = {
    kind: 'terminate',
    asg: 'web',
    instanceId: 'i-1',
    hookName: 'drover-t-terminate',
    token: 'tok',
    command: 'echo bye',
    runId: 'dec-1',
    deadline: Date.now() + 600_000,
    sliceSec: 60,
  };
  const waiting = (waitSec = 30) => ({
    runIds: ['r-1'],
    deadline: Date.now() + waitSec * 1000,
    state: 'waiting',
    waitFor: 'r-1',
    waitSec,
    runs: [{ runId: 'r-1', status: 'running' }],
  });
  const over = (state: string, status: string) => ({
    ...waiting(),
    state,
    waitFor: '',
    waitSec: 1,
    runs: [{ runId: 'r-1', status }],
  });
  const decommission = {
    run: release,
    outcome: () => ({ result: 'CONTINUE', reason: 'decommission succeeded', runId: 'dec-1' }),
  };
  const lifecycle = (extra: Record<string, Script>) => ({
    prepare: () => action,
    heartbeat: () => ({ expired: false }),
    outcome: decommission.outcome,
    complete: (p: Json) => ({
      result: 'CONTINUE',
      reason: (p.action as { outcome: { reason: string } }).outcome.reason,
    }),
    ...extra,
  });

  it('waits for a reaction released by its run, then decommissions', async () => {
    const { run } = machine('lifecycle', {
      lifecycle: lifecycle({ reactions: () => waiting(), reactionsPending: () => over('done', 'succeeded') }),
      lifecycleWait: { reaction: release, run: release },
    });
    const out = await run({});
    expect(out.calls).toEqual([
      'lifecycle:prepare',
      'lifecycle:reactions',
      'lifecycleWait:reaction',
      'lifecycle:reactionsPending',
      'lifecycleWait:run',
      'lifecycle:outcome',
      'lifecycle:complete',
    ]);
    expect(out.output).toMatchObject({ action: { reactions: { state: 'done' } } });
  }, 40_000);

  it('goes straight to the decommission when nobody reacts', async () => {
    const { run } = machine('lifecycle', {
      lifecycle: lifecycle({ reactions: () => over('done', 'none') }),
      lifecycleWait: { run: release },
    });
    expect((await run({})).calls).toEqual([
      'lifecycle:prepare',
      'lifecycle:reactions',
      'lifecycleWait:run',
      'lifecycle:outcome',
      'lifecycle:complete',
    ]);
  }, 40_000);

  it('stops waiting when AwaitReaction times out, asks once more, and decommissions', async () => {
    const { run } = machine('lifecycle', {
      lifecycle: lifecycle({
        reactions: () => waiting(1),
        reactionsPending: () => over('timedOut', 'running'),
      }),
      // Never released: the Task's timeout (waitSec) ends the wait.
      lifecycleWait: { reaction: () => undefined, run: release },
    });
    const out = await run({});
    expect(out.status).toBe('SUCCEEDED');
    expect(out.calls).toContain('lifecycle:reactionsPending');
    expect(out.calls.at(-1)).toBe('lifecycle:complete');
    expect(out.output).toMatchObject({
      action: { reactions: { state: 'timedOut', runs: [{ status: 'running' }] } },
      result: { result: 'CONTINUE', reason: 'decommission succeeded' },
    });
  }, 40_000);

  it.each([
    [
      'ReactionsPending',
      { reactionsPending: () => Promise.reject(new Error('boom')) },
      { reaction: release },
    ],
    ['AwaitReaction', {}, { reaction: () => Promise.reject(new Error('boom')) }],
  ])(
    'records a failing %s and decommissions',
    async (_state, steps, waits) => {
      const { run } = machine('lifecycle', {
        lifecycle: lifecycle({ reactions: () => waiting(), ...steps }),
        lifecycleWait: { run: release, ...(waits as Record<string, Script>) },
      });
      const out = await run({});
      expect(out.status).toBe('SUCCEEDED');
      expect(out.output).toMatchObject({
        reactionsError: { Error: 'Error' },
        result: { result: 'CONTINUE', reason: 'decommission succeeded' },
      });
      expect(out.calls.slice(-3)).toEqual(['lifecycleWait:run', 'lifecycle:outcome', 'lifecycle:complete']);
    },
    40_000,
  );
});
