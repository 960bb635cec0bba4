/**
 * Reactions: which stored reactions an event sets off, the debounce window and the run id (the
 * execution name every event of a window shares), and the react and fire steps with in-memory
 * fakes that keep AWS's rules: a window item refuses hosts once fired (DynamoDB's condition), and
 * Step Functions starts a name once (the same input again while open is that execution; anything
 * else ExecutionAlreadyExists). test/integration/reaction-windows.test.ts runs them on the stack.
 */
import { describe, expect, it } from 'vitest';
import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  MAX_REACTIONS_ITEM_BYTES,
  matchingReactions,
  reactionsTooBig,
  reactionKey,
  reactionRunId,
  windowStart,
  type GroupReactions,
  type StoredReaction,
} from '#shared/stores/reactions.ts';
import { RUN_ID_PATTERN } from '#shared/run-errors.ts';
import { runInputSchema } from '#shared/messages.ts';
import { react, type ReactDeps, type ReactionWindow } from '../../functions/reactions/react.ts';
import { fireWindow, type FireDeps } from '../../functions/reactions/fire.ts';
import type { AddOutcome } from '#shared/stores/reaction-windows.ts';

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

/** The window items, as DynamoDB keeps them under the conditional writes of ReactionWindows. */
class FakeWindows {
  readonly items = new Map<string, { hosts: Set<string>; moved: Set<string>; fired: boolean }>();
  readonly reactedBy = new Map<string, string[]>();
  #item(runId: string) {
    let item = this.items.get(runId);
    if (!item) this.items.set(runId, (item = { hosts: new Set(), moved: new Set(), fired: false }));
    return item;
  }
  add = async (runId: string, host: string): Promise<AddOutcome> => {
    const item = this.#item(runId);
    if (!item.fired) {
      item.hosts.add(host);
      return { state: 'pending' };
    }
    return item.hosts.has(host) || item.moved.has(host) ? { state: 'duplicate' } : { state: 'late' };
  };
  markMoved = async (runId: string, host: string) => void this.#item(runId).moved.add(host);
  reacted = async (nodeId: string) => this.reactedBy.get(nodeId) ?? [];
  fire = async (runId: string) => {
    const item = this.#item(runId);
    item.fired = true;
    return [...item.hosts].sort();
  };
}

/** Step Functions' StartExecution rules for names, per state machine. */
class FakeSfn {
  readonly executions = new Map<string, { input: string; open: boolean }>();
  failNext = 0;
  send = (async (command: StartExecutionCommand) => {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('ThrottlingException');
    }
    const key = `${command.input.stateMachineArn}/${command.input.name}`;
    const input = command.input.input!;
    const found = this.executions.get(key);
    if (found && !(found.open && found.input === input))
      throw new ExecutionAlreadyExists({ message: 'exists', $metadata: {} });
    if (!found) this.executions.set(key, { input, open: true });
    return { executionArn: `arn:${key}`, startDate: new Date() };
  }) as ReactDeps['sfn']['send'];
  started(machine: string): { name: string; input: unknown }[] {
    return [...this.executions]
      .filter(([key]) => key.startsWith(`${machine}/`))
      .map(([key, e]) => ({ name: key.slice(machine.length + 1), input: JSON.parse(e.input) as unknown }));
  }
}

const RUN = 'arn:aws:states:us-east-1:000000000000:stateMachine:drover-t-run';
const TIMER = 'arn:aws:states:us-east-1:000000000000:stateMachine:drover-t-reaction';

function fakeDeps(reactions: GroupReactions[], groups: Record<string, string> = {}) {
  const windows = new FakeWindows();
  const sfn = new FakeSfn();
  const published: [string, Record<string, unknown>][] = [];
  let now = 0;
  const log = { info: () => {}, warn: () => {} };
  const deps: ReactDeps & FireDeps = {
    reactions: async () => reactions,
    groupOf: async (nodeId) => groups[nodeId],
    windows,
    sfn,
    runStateMachineArn: RUN,
    reactionStateMachineArn: TIMER,
    events: { publish: async (type, detail) => void published.push([type, detail]) },
    windowSec: 30,
    now: () => now,
    log,
  };
  /** Closes every open timer whose window ended by `at` (ms), as the Wait state's end does. */
  const closeWindows = async (at: number) => {
    now = at;
    const fired = [];
    for (const { name, input } of sfn.started(TIMER)) {
      const window = input as ReactionWindow;
      const timer = sfn.executions.get(`${TIMER}/${name}`)!;
      if (!timer.open || Date.parse(window.fireAt) > at) continue;
      fired.push(await fireWindow(window, deps));
      timer.open = false;
    }
    return fired;
  };
  const runs = () => sfn.started(RUN).map((r) => ({ name: r.name, input: runInputSchema.parse(r.input) }));
  return { deps, windows, sfn, published, closeWindows, runs, setNow: (at: number) => (now = at) };
}

const event = (type: string, detail: Record<string, unknown>, id = 'e1') => ({
  id,
  time: '2026-01-01T00:00:00Z',
  source: 'drover',
  'detail-type': type,
  detail,
});
const joined = (at: number, n: number) =>
  event('Node Joined', { at, nodeId: `i-${n}`, identity: `api-${n}`, asg: 'api-asg' }, `e${n}`);

describe('react and fire (trailing debounce)', () => {
  it('makes one run after the window for several changes in it, listing them all; the next window another', async () => {
    const f = fakeDeps(stored);
    f.setNow(60_000);
    const first = await react(joined(60_000, 1), f.deps);
    await react(
      event('Node Joined', { at: 75_000, nodeId: 'i-2', identity: 'api-2', facts: { group: 'api' } }, 'e2'),
      f.deps,
    );
    expect(first.pending).toHaveLength(1);
    // Nothing runs while the window is open: the later changes would not be heard of.
    expect(await f.closeWindows(89_999)).toEqual([]);
    expect(f.runs()).toEqual([]);
    expect(await f.closeWindows(90_000)).toEqual([{ runId: first.pending[0], hostCount: 2, started: true }]);
    const [run] = f.runs();
    expect(run!.name).toBe(first.pending[0]);
    expect(run!.input.filter.fact).toEqual(['group="www"']);
    expect(run!.input.command).toEqual({ shell: 'reload-upstreams' });
    expect(run!.input.caller).toBe('reaction:www:api-joined:api-1,api-2');
    expect(f.published).toEqual([
      [
        'Run Started',
        expect.objectContaining({
          runId: first.pending[0],
          cause: 'api hosts api-1, api-2 joined',
          hosts: ['api-1', 'api-2'],
        }),
      ],
    ]);

    const next = await react(joined(95_000, 3), f.deps);
    await f.closeWindows(120_000);
    expect(f.runs().map((r) => r.name)).toEqual([first.pending[0], next.pending[0]]);
    expect(f.runs()[1]!.input.caller).toBe('reaction:www:api-joined:api-3');
  });

  it('starts no extra run for a redelivered event, before or after its window fired', async () => {
    const f = fakeDeps(stored);
    f.setNow(60_000);
    await react(joined(60_000, 1), f.deps);
    await react(joined(60_000, 1), f.deps);
    await f.closeWindows(90_000);
    expect(await react(joined(60_000, 1), f.deps)).toMatchObject({
      pending: [],
      duplicate: [expect.any(String)],
    });
    await f.closeWindows(200_000);
    expect(f.runs()).toHaveLength(1);
    expect(f.runs()[0]!.input.caller).toBe('reaction:www:api-joined:api-1');
  });

  it('puts a change that arrives after its window fired in the window of its arrival, once', async () => {
    const f = fakeDeps(stored);
    f.setNow(60_000);
    await react(joined(60_000, 1), f.deps);
    await f.closeWindows(90_000);
    f.setNow(100_000);
    const late = await react(joined(70_000, 2), f.deps);
    expect(late.pending[0]).toMatch(/^reaction-joined-90-/);
    // Its redelivery, even after the later window fired, is known as one.
    await f.closeWindows(120_000);
    f.setNow(130_000);
    expect((await react(joined(70_000, 2), f.deps)).duplicate).toHaveLength(1);
    await f.closeWindows(200_000);
    expect(f.runs().map((r) => r.input.caller)).toEqual([
      'reaction:www:api-joined:api-1',
      'reaction:www:api-joined:api-2',
    ]);
  });

  it('still makes exactly one run when it crashed between the pending write and the timer', async () => {
    const f = fakeDeps(stored);
    f.setNow(60_000);
    f.sfn.failNext = 1;
    await expect(react(joined(60_000, 1), f.deps)).rejects.toThrow('Throttling');
    expect(f.sfn.started(TIMER)).toEqual([]);
    // EventBridge retries the event.
    await react(joined(60_000, 1), f.deps);
    await f.closeWindows(90_000);
    expect(f.runs()).toHaveLength(1);
  });

  it('starts the same run when the fire step is retried, open or closed', async () => {
    const f = fakeDeps(stored);
    f.setNow(60_000);
    const { pending } = await react(joined(60_000, 1), f.deps);
    const window = f.sfn.started(TIMER)[0]!.input as ReactionWindow;
    // A change added after firing is refused: a retry sees the same hosts, asks the same input.
    expect(await fireWindow(window, f.deps)).toMatchObject({ started: true, hostCount: 1 });
    await react(joined(61_000, 2), f.deps);
    expect(await fireWindow(window, f.deps)).toMatchObject({ started: true, hostCount: 1 });
    f.sfn.executions.get(`${RUN}/${pending[0]}`)!.open = false;
    expect(await fireWindow(window, f.deps)).toMatchObject({ started: false });
    expect(f.runs()).toHaveLength(1);
  });

  it('names 20 hosts in the caller and 100 in the event for a window of many, counting them all', async () => {
    const f = fakeDeps(stored);
    f.setNow(60_000);
    for (let n = 1; n <= 150; n++) await react(joined(60_000, n), f.deps);
    await f.closeWindows(90_000);
    const [run] = f.runs();
    expect(run!.input.caller).toMatch(/^reaction:www:api-joined:api-1,api-10,api-100,.*,\+130 more$/);
    expect(run!.input.caller.split(',')).toHaveLength(21);
    const [, detail] = f.published[0]!;
    expect(detail.hosts).toHaveLength(100);
    expect(detail.hostCount).toBe(150);
    expect(detail.cause).toMatch(/ joined \(150 hosts\)$/);
  });

  it('puts a change stamped in the future in the window it arrived in', async () => {
    const f = fakeDeps(stored);
    f.setNow(60_000);
    const { pending } = await react(joined(10_000_000, 1), f.deps);
    expect(pending[0]).toMatch(/^reaction-joined-60-/);
  });

  it("targets the reacting group's Auto Scaling group when it has one (its instances report asg)", async () => {
    const f = fakeDeps([{ ...stored[0]!, targetAsg: 'www-asg' }]);
    await react(joined(1, 1), f.deps);
    await f.closeWindows(60_000);
    expect(f.runs()[0]!.input.filter.fact).toEqual(['asg="www-asg"']);
  });

  it('reads the group fact of a lost or terminated host from the facts table', async () => {
    const f = fakeDeps(stored, { 'i-9': 'www' });
    const out = await react(
      event('Node Terminated', { at: 1_000, nodeId: 'i-9', identity: 'www-9' }),
      f.deps,
    );
    expect(out.pending).toHaveLength(1);
    await f.closeWindows(60_000);
    expect(f.runs()[0]!.input.filter.fact).toEqual(['group="db"']);
  });

  it('skips the terminated reactions a decommission ran already for that host', async () => {
    const f = fakeDeps(stored, { 'i-9': 'www', 'i-8': 'www' });
    f.windows.reactedBy.set('i-9', [reactionKey('db', stored[1]!.reactions[0]!)]);
    const out = await react(
      event('Node Terminated', { at: 1_000, nodeId: 'i-9', identity: 'www-9' }),
      f.deps,
    );
    expect(out).toMatchObject({ pending: [], ranBefore: [expect.any(String)] });
    // Another host's termination still reacts.
    f.windows.reactedBy.clear();
    expect(
      (await react(event('Node Terminated', { at: 1_000, nodeId: 'i-8', identity: 'www-8' }, 'e8'), f.deps))
        .pending,
    ).toHaveLength(1);
  });

  it('ignores other events, and hosts of no watched group', async () => {
    const f = fakeDeps(stored);
    expect(
      (await react(event('Node Returned', { at: 1, nodeId: 'i-1', asg: 'api-asg' }), f.deps)).pending,
    ).toEqual([]);
    expect((await react(event('Node Joined', { at: 1, nodeId: 'i-1', asg: 'web' }), f.deps)).pending).toEqual(
      [],
    );
    expect(f.sfn.executions.size).toBe(0);
  });
});
