/**
 * Reactions: which stored reactions an event sets off, the debounce window and the run id (the
 * execution name every event of a window shares), and the react step with a fake Step Functions
 * that refuses a name it has seen, as Step Functions does.
 */
import { describe, expect, it } from 'vitest';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  MAX_REACTIONS_ITEM_BYTES,
  matchingReactions,
  reactionsTooBig,
  reactionRunId,
  windowStart,
  type GroupReactions,
  type StoredReaction,
} from '#shared/reactions.ts';
import { RUN_ID_PATTERN } from '#shared/run-errors.ts';
import { runInputSchema } from '#shared/messages.ts';
import { react, type ReactDeps } from '../../functions/reactions/react.ts';

const reload: StoredReaction = { on: 'joined', group: 'api', run: 'reload-upstreams', asg: 'api-asg' };
const stored: GroupReactions[] = [
  {
    group: 'www',
    reactions: [reload, { on: 'lost', group: 'api', run: 'drain' }],
    updatedAt: 1,
    updatedBy: 't',
  },
  {
    group: 'db',
    reactions: [{ on: 'terminated', group: 'www', run: 'forget' }],
    updatedAt: 1,
    updatedBy: 't',
  },
];

describe('matchingReactions', () => {
  it('matches the event and the watched group, by group fact or by Auto Scaling group', () => {
    expect(matchingReactions(stored, { event: 'joined', group: 'api' })).toEqual([
      { reacting: 'www', reaction: reload },
    ]);
    expect(matchingReactions(stored, { event: 'joined', asg: 'api-asg' })).toEqual([
      { reacting: 'www', reaction: reload },
    ]);
    expect(matchingReactions(stored, { event: 'lost', group: 'api' }).map((m) => m.reaction.run)).toEqual([
      'drain',
    ]);
  });

  it('matches nothing for another event, another group, or a host whose group is unknown', () => {
    expect(matchingReactions(stored, { event: 'terminated', group: 'api' })).toEqual([]);
    expect(matchingReactions(stored, { event: 'joined', group: 'www' })).toEqual([]);
    expect(matchingReactions(stored, { event: 'joined', asg: 'other' })).toEqual([]);
    // A reaction without an ASG of its watched group never matches on a host's ASG alone.
    expect(matchingReactions(stored, { event: 'lost', asg: 'api-asg' })).toEqual([]);
    expect(matchingReactions(stored, { event: 'joined' })).toEqual([]);
  });
});

describe('reactionsTooBig', () => {
  it('refuses a group whose reactions would not fit one DynamoDB item, and names the group', () => {
    const run = 'x'.repeat(30 * 1024);
    const many = Array.from({ length: 14 }, () => ({ on: 'joined' as const, group: 'api', run }));
    const group = { group: 'www', reactions: many, updatedAt: 1, updatedBy: 't' };
    expect(reactionsTooBig(group)).toMatch(/^the reactions of www take \d+ bytes/);
    expect(reactionsTooBig({ ...group, reactions: many.slice(0, 12) })).toBeUndefined();
    expect(JSON.stringify({ ...group, reactions: many.slice(0, 12) }).length).toBeLessThan(
      MAX_REACTIONS_ITEM_BYTES,
    );
  });
});

describe('debounce window and run id', () => {
  it('gives every moment of a window the same start, and the next window another', () => {
    expect(windowStart(60_000, 30)).toBe(60);
    expect(windowStart(89_999, 30)).toBe(60);
    expect(windowStart(90_000, 30)).toBe(90);
  });

  it('is the same name within a window and differs across windows, reactions and reacting groups', () => {
    const a = reactionRunId('www', reload, 60);
    expect(reactionRunId('www', reload, 60)).toBe(a);
    expect(reactionRunId('www', reload, 90)).not.toBe(a);
    expect(reactionRunId('db', reload, 60)).not.toBe(a);
    expect(reactionRunId('www', { ...reload, run: 'other' }, 60)).not.toBe(a);
    expect(reactionRunId('www', { ...reload, on: 'lost' }, 60)).not.toBe(a);
  });

  it('is a valid execution name even for the longest group name', () => {
    const long = 'g'.repeat(64);
    const id = reactionRunId(long, { on: 'terminated', group: long, run: 'x' }, 1_764_000_000);
    expect(id).toMatch(RUN_ID_PATTERN);
    expect(id.length).toBeLessThanOrEqual(80);
    expect(reactionRunId(long, { on: 'terminated', group: long, run: 'y' }, 1_764_000_000)).not.toBe(id);
  });
});

/** A fake Step Functions: a name starts once, then ExecutionAlreadyExists (the local emulator too). */
function fakeDeps(reactions: GroupReactions[], groups: Record<string, string> = {}) {
  const names: string[] = [];
  const inputs: unknown[] = [];
  const published: [string, Record<string, unknown>][] = [];
  const deps: ReactDeps = {
    reactions: async () => reactions,
    groupOf: async (nodeId) => groups[nodeId],
    sfn: {
      send: (async (command: StartExecutionCommand) => {
        const name = command.input.name!;
        if (names.includes(name)) throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
        names.push(name);
        inputs.push(JSON.parse(command.input.input!));
        return { executionArn: `arn:${name}`, startDate: new Date() };
      }) as ReactDeps['sfn']['send'],
    },
    runStateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:drover-t-run',
    events: { publish: async (type, detail) => void published.push([type, detail]) },
    windowSec: 30,
    log: { info: () => {} },
  };
  return { deps, names, inputs, published };
}

const event = (type: string, detail: Record<string, unknown>, id = 'e1') => ({
  id,
  time: '2026-01-01T00:00:00Z',
  source: 'drover',
  'detail-type': type,
  detail,
});

describe('react', () => {
  it('starts one run on the reacting group for several joins within a window; the next window starts another', async () => {
    const f = fakeDeps(stored);
    const first = await react(
      event('Node Joined', { at: 60_000, nodeId: 'i-1', identity: 'api-1', asg: 'api-asg' }),
      f.deps,
    );
    const second = await react(
      event('Node Joined', { at: 75_000, nodeId: 'i-2', identity: 'api-2', facts: { group: 'api' } }, 'e2'),
      f.deps,
    );
    expect(first.started).toHaveLength(1);
    expect(second).toEqual({ started: [], debounced: first.started });
    const third = await react(
      event('Node Joined', { at: 95_000, nodeId: 'i-3', identity: 'api-3', asg: 'api-asg' }, 'e3'),
      f.deps,
    );
    expect(third.started).toHaveLength(1);
    expect(f.names).toHaveLength(2);
    const input = runInputSchema.parse(f.inputs[0]);
    expect(input.filter.fact).toEqual(['group="www"']);
    expect(input.command).toEqual({ shell: 'reload-upstreams' });
    expect(input.caller).toBe('reaction:www:api-joined:api-1');
    expect(f.published.map(([type, d]) => [type, d.runId, d.caller])).toEqual([
      ['Run Started', first.started[0], 'reaction:www:api-joined:api-1'],
      ['Run Started', third.started[0], 'reaction:www:api-joined:api-3'],
    ]);
  });

  it("targets the reacting group's Auto Scaling group when it has one (its instances report asg)", async () => {
    const f = fakeDeps([{ ...stored[0]!, targetAsg: 'www-asg' }]);
    await react(event('Node Joined', { at: 1, nodeId: 'i-1', identity: 'api-1', asg: 'api-asg' }), f.deps);
    expect(runInputSchema.parse(f.inputs[0]).filter.fact).toEqual(['asg="www-asg"']);
  });

  it('a redelivered event starts nothing more', async () => {
    const f = fakeDeps(stored);
    const e = event('Node Joined', { at: 60_000, nodeId: 'i-1', identity: 'api-1', asg: 'api-asg' });
    await react(e, f.deps);
    expect((await react(e, f.deps)).started).toEqual([]);
    expect(f.names).toHaveLength(1);
  });

  it('reads the group fact of a lost or terminated host from the facts table', async () => {
    const f = fakeDeps(stored, { 'i-9': 'www' });
    const out = await react(
      event('Node Terminated', { at: 1_000, nodeId: 'i-9', identity: 'www-9' }),
      f.deps,
    );
    expect(out.started).toHaveLength(1);
    expect(runInputSchema.parse(f.inputs[0]).filter.fact).toEqual(['group="db"']);
  });

  it('ignores other events, and hosts of no watched group', async () => {
    const f = fakeDeps(stored);
    expect(await react(event('Node Returned', { at: 1, nodeId: 'i-1', asg: 'api-asg' }), f.deps)).toEqual({
      started: [],
      debounced: [],
    });
    expect(await react(event('Node Joined', { at: 1, nodeId: 'i-1', asg: 'web' }), f.deps)).toEqual({
      started: [],
      debounced: [],
    });
    expect(f.names).toEqual([]);
  });

  it('lets other Step Functions errors through, so EventBridge retries the event', async () => {
    const f = fakeDeps(stored);
    f.deps.sfn = {
      send: (async () => {
        throw new Error('ThrottlingException');
      }) as ReactDeps['sfn']['send'],
    };
    await expect(
      react(event('Node Joined', { at: 1, nodeId: 'i-1', asg: 'api-asg' }), f.deps),
    ).rejects.toThrow('Throttling');
  });
});
