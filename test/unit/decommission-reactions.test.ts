/**
 * A decommission's reactions (functions/reactions/decommission.ts) with in-memory fakes: which
 * reactions start for the leaving host, the bound of the wait (the configured seconds, a wait
 * slice, the action's deadline), what is waited for next, and when the wait gives up.
 */
import { describe, expect, it } from 'vitest';
import { ExecutionAlreadyExists, type StartExecutionCommand } from '@aws-sdk/client-sfn';
import { runInputSchema } from '#shared/messages.ts';
import { reactionKey, type GroupReactions } from '#shared/stores/reactions.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import {
  decommissionReactionRunId,
  pendingDecommissionReactions,
  startDecommissionReactions,
  type DecommissionReactionDeps,
  type LeavingHost,
} from '../../functions/reactions/decommission.ts';

const stored: GroupReactions[] = [
  {
    group: 'lb',
    targetAsg: 'lb-asg',
    reactions: [{ on: 'terminated', group: 'api', run: 'drop-upstream', asg: 'api-asg' }],
    updatedAt: 1,
    updatedBy: 't',
  },
  {
    group: 'cache',
    reactions: [
      { on: 'terminated', group: 'api', run: 'forget' },
      { on: 'joined', group: 'api', run: 'welcome' },
    ],
    updatedAt: 1,
    updatedBy: 't',
  },
];

const host: LeavingHost = {
  asg: 'api-asg',
  instanceId: 'i-1',
  token: 'tok',
  deadline: 1_000_000,
  sliceSec: 120,
};

function fakes(options: { facts?: Record<string, unknown>; waitSec?: number } = {}) {
  let now = 0;
  const started = new Map<string, unknown>();
  const statuses = new Map<string, string>();
  const marked: [string, string[]][] = [];
  const heartbeats: string[] = [];
  const deps: DecommissionReactionDeps = {
    reactions: async () => stored,
    node: async (id) =>
      ({ nodeId: id, identity: 'api-1', facts: options.facts ?? { group: 'api' } }) as unknown as NodeItem,
    windows: { markReacted: async (id, keys) => void marked.push([id, [...keys]]) },
    runStatus: async (runId) => statuses.get(runId) ?? 'running',
    heartbeat: async (h) => void heartbeats.push(h.instanceId),
    sfn: {
      send: (async (command: StartExecutionCommand) => {
        const name = command.input.name!;
        const input = command.input.input!;
        if (started.has(name) && started.get(name) !== input)
          throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
        started.set(name, input);
        return { executionArn: `arn:${name}`, startDate: new Date(now) };
      }) as DecommissionReactionDeps['sfn']['send'],
    },
    runStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:drover-t-run',
    events: { publish: async () => {} },
    waitSec: options.waitSec ?? 120,
    now: () => now,
    log: { info: () => {}, warn: () => {} },
  };
  return { deps, started, statuses, marked, heartbeats, setNow: (at: number) => (now = at) };
}

describe('startDecommissionReactions', () => {
  it("starts the terminated reactions of every group reacting to the host's group, and notes them", async () => {
    const f = fakes();
    const out = await startDecommissionReactions(host, f.deps);

    expect(out.runIds).toEqual([
      decommissionReactionRunId('lb', stored[0]!.reactions[0]!, host),
      decommissionReactionRunId('cache', stored[1]!.reactions[0]!, host),
    ]);
    expect(out).toMatchObject({ state: 'waiting', waitFor: out.runIds[0], waitSec: 120 });
    const inputs = [...f.started.values()].map((i) => runInputSchema.parse(JSON.parse(i as string)));
    expect(inputs.map((i) => [i.command, i.filter.fact, i.caller])).toEqual([
      [{ shell: 'drop-upstream' }, ['asg="lb-asg"'], 'reaction:lb:api-terminated:api-1'],
      [{ shell: 'forget' }, ['group="cache"'], 'reaction:cache:api-terminated:api-1'],
    ]);
    expect(f.marked).toEqual([
      ['i-1', [reactionKey('lb', stored[0]!.reactions[0]!), reactionKey('cache', stored[1]!.reactions[0]!)]],
    ]);
  });

  it('starts the same runs when the step is retried', async () => {
    const f = fakes();
    const first = await startDecommissionReactions(host, f.deps);
    const again = await startDecommissionReactions(host, f.deps);
    expect(again.runIds).toEqual(first.runIds);
    expect(f.started.size).toBe(2);
    // Another action (another token) of the same instance is another run.
    expect(decommissionReactionRunId('lb', stored[0]!.reactions[0]!, { ...host, token: 'other' })).not.toBe(
      first.runIds[0],
    );
  });

  it('is done at once for a host nobody reacts to (by group fact or ASG)', async () => {
    const f = fakes({ facts: { group: 'batch' } });
    expect(await startDecommissionReactions({ ...host, asg: 'batch-asg' }, f.deps)).toMatchObject({
      state: 'done',
      runIds: [],
      waitFor: '',
    });
    expect(f.started.size).toBe(0);
    expect(f.marked).toEqual([]);
  });

  it('waits at most the configured seconds, a wait slice, and never past the action', async () => {
    expect((await startDecommissionReactions(host, fakes({ waitSec: 30 }).deps)).deadline).toBe(30_000);
    expect((await startDecommissionReactions({ ...host, sliceSec: 10 }, fakes().deps)).deadline).toBe(10_000);
    expect((await startDecommissionReactions({ ...host, deadline: 5_000 }, fakes().deps)).deadline).toBe(
      5_000,
    );
  });
});

describe('pendingDecommissionReactions', () => {
  it('waits for the first run still going, then is done when all ended, with each status', async () => {
    const f = fakes();
    const start = await startDecommissionReactions(host, f.deps);
    f.statuses.set(start.runIds[0]!, 'failed');
    f.setNow(40_000);
    const next = await pendingDecommissionReactions({ ...host, reactions: start }, f.deps);
    expect(next).toMatchObject({ state: 'waiting', waitFor: start.runIds[1], waitSec: 80 });
    f.statuses.set(start.runIds[1]!, 'succeeded');
    expect(await pendingDecommissionReactions({ ...host, reactions: next }, f.deps)).toMatchObject({
      state: 'done',
      runs: [
        { runId: start.runIds[0], status: 'failed' },
        { runId: start.runIds[1], status: 'succeeded' },
      ],
    });
    expect(f.heartbeats).toEqual(['i-1', 'i-1']);
  });

  it('gives up at the deadline, recording what still runs', async () => {
    const f = fakes({ waitSec: 5 });
    const start = await startDecommissionReactions(host, f.deps);
    f.setNow(5_000);
    expect(await pendingDecommissionReactions({ ...host, reactions: start }, f.deps)).toMatchObject({
      state: 'timedOut',
      runs: [{ status: 'running' }, { status: 'running' }],
    });
  });

  it('goes on when the lifecycle heartbeat fails', async () => {
    const f = fakes();
    const start = await startDecommissionReactions(host, f.deps);
    f.deps.heartbeat = async () => {
      throw new Error('No active Lifecycle Action found');
    };
    expect((await pendingDecommissionReactions({ ...host, reactions: start }, f.deps)).state).toBe('waiting');
  });
});
