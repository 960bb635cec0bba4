/**
 * The trailing debounce of reactions on the local stack, with 2-second windows: Node Joined events
 * on the stage bus reach the real react function (as EventBridge delivers them), which adds to the
 * window's DynamoDB item and starts the reaction state machine (reaction.asl.json: Wait, then
 * Fire); the run starts on the run state machine when the window closes. Also the crash between
 * the pending write and the timer, with the real clients and a Step Functions client that fails
 * once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListExecutionsCommand, DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ReactionStore, reactionRunId } from '#shared/stores/reactions.ts';
import { ReactionWindows } from '#shared/stores/reaction-windows.ts';
import { react, type ReactDeps } from '../../functions/reactions/react.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';

const WINDOW_SEC = 2;
let t: TestStack;
const previous = process.env.DROVER_REACTION_WINDOW_SEC;

beforeAll(async () => {
  process.env.DROVER_REACTION_WINDOW_SEC = String(WINDOW_SEC);
  t = await startTestStack();
  await new ReactionStore(t.db, t.stack.file.lifecycleTable!).put({
    group: 'tools',
    reactions: [
      { on: 'joined', group: 'api', run: 'echo api changed' },
      { on: 'lost', group: 'api', run: 'echo api lost' },
    ],
    updatedAt: Date.now(),
    updatedBy: 'test',
  });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  if (previous === undefined) delete process.env.DROVER_REACTION_WINDOW_SEC;
  else process.env.DROVER_REACTION_WINDOW_SEC = previous;
});

interface RunSeen {
  name: string;
  startDate: number;
  caller: string;
}

/** The reaction runs the run state machine has, oldest first. */
async function reactionRuns(kind: string): Promise<RunSeen[]> {
  const out = await t.sfn.send(
    new ListExecutionsCommand({ stateMachineArn: t.stack.file.stateMachines.run }),
  );
  const runs: RunSeen[] = [];
  for (const e of out.executions ?? []) {
    if (!e.name?.startsWith(`reaction-${kind}-`)) continue;
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
    const input = JSON.parse(d.input!) as { caller: string };
    runs.push({ name: e.name, startDate: e.startDate!.getTime(), caller: input.caller });
  }
  return runs.sort((a, b) => a.startDate - b.startDate);
}

function put(type: string, at: number, host: string): void {
  t.stack.bus.put({
    Source: 'drover',
    DetailType: type,
    Detail: JSON.stringify({ at, nodeId: `i-${host}`, identity: host, facts: { group: 'api' } }),
    EventBusName: 'drover-local',
  });
}

/** A moment early in a window, so that the test's events all fall in it. */
async function windowStartingSoon(): Promise<number> {
  const ms = WINDOW_SEC * 1000;
  const next = Math.ceil(Date.now() / ms) * ms;
  await new Promise((r) => setTimeout(r, next - Date.now() + 50));
  return next;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reaction windows on the local stack', () => {
  it('makes one run after the window for its changes, listing them; a redelivery none; the next window one', async () => {
    const start = await windowStartingSoon();
    put('Node Joined', start + 10, 'api-1');
    put('Node Joined', start + 20, 'api-2');
    put('Node Joined', start + 20, 'api-2'); // redelivered
    // While the window is open, no run.
    await sleep(300);
    expect(await reactionRuns('joined')).toEqual([]);
    const [run] = await eventually(
      async () => {
        const runs = await reactionRuns('joined');
        return runs.length > 0 ? runs : undefined;
      },
      20_000,
      'the window to fire',
    );
    expect(run!.caller).toBe('reaction:tools:api-joined:api-1,api-2');
    expect(run!.startDate).toBeGreaterThanOrEqual(start + WINDOW_SEC * 1000);
    // The same change delivered again after the window fired: no extra run.
    put('Node Joined', start + 20, 'api-2');
    // A change in a later window: a second run.
    put('Node Joined', Date.now(), 'api-3');
    const runs = await eventually(
      async () => {
        const found = await reactionRuns('joined');
        return found.length >= 2 ? found : undefined;
      },
      20_000,
      'the second window to fire',
    );
    await sleep(WINDOW_SEC * 1000 + 1000);
    expect((await reactionRuns('joined')).map((r) => r.caller)).toEqual([
      'reaction:tools:api-joined:api-1,api-2',
      'reaction:tools:api-joined:api-3',
    ]);
    expect(runs[1]!.name).not.toBe(runs[0]!.name);
  }, 60_000);

  it('still makes exactly one run when react crashed between the pending write and the timer', async () => {
    let failures = 1;
    const sfn = {
      send: ((command: Parameters<SFNClient['send']>[0]) => {
        if (failures-- > 0) return Promise.reject(new Error('the Lambda died here'));
        return t.sfn.send(command as never);
      }) as ReactDeps['sfn']['send'],
    };
    const windows = new ReactionWindows(t.db, t.stack.file.lifecycleTable!);
    const deps: ReactDeps = {
      reactions: () => new ReactionStore(t.db, t.stack.file.lifecycleTable!).list(),
      groupOf: async () => 'api',
      windows,
      sfn,
      reactionStateMachineArn: t.stack.file.stateMachines.reaction!,
      windowSec: WINDOW_SEC,
      now: Date.now,
      log: { info: () => {}, warn: () => {} },
    };
    const start = await windowStartingSoon();
    const event = {
      id: 'lost-1',
      time: new Date(start).toISOString(),
      source: 'drover',
      'detail-type': 'Node Lost',
      detail: { at: start + 10, nodeId: 'i-api-9', identity: 'api-9' },
    };
    await expect(react(event, deps)).rejects.toThrow('the Lambda died here');
    const stored = (await deps.reactions())[0]!.reactions[1]!;
    const runId = reactionRunId('tools', stored, start / 1000);
    // The pending write happened; the timer did not.
    expect(await windows.hosts(runId)).toEqual(['api-9']);
    // EventBridge retries the event.
    expect((await react(event, deps)).pending).toEqual([runId]);
    await eventually(
      async () => ((await reactionRuns('lost')).length > 0 ? true : undefined),
      20_000,
      'the window to fire',
    );
    await sleep(WINDOW_SEC * 1000 + 500);
    expect(await reactionRuns('lost')).toEqual([
      expect.objectContaining({ name: runId, caller: 'reaction:tools:api-lost:api-9' }),
    ]);
  }, 60_000);
});
