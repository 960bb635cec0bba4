/**
 * Reactions end to end on the local stack: `fleet apply` stores a group's reactions, a real
 * instance of the local Auto Scaling group `web` launches (`drover local scale`), bootstraps and
 * joins, and the `react` function (delivered by the local event bus, as EventBridge would) starts
 * the reaction as a run on the reacting group's real agent; the run records its cause as caller,
 * and `drover events` shows it (debounce: test/unit/reactions.test.ts and
 * test/integration/reaction-windows.test.ts). Scaling in: the leaving instance's `terminated`
 * reaction runs, and ends, before its decommission command, and not again on its Node Terminated.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';
import { stopAll } from '../helpers/processes.ts';

let t: TestStack;
let dir: string;
const cli = (args: string[]) => droverCli(t.home, args);

const FLEET = `
web:
  bootstrap: echo web up
  decommission: echo "web $DROVER_IDENTITY down"
  autoscale: { asg: web, timeout: 120 }
tools:
  bootstrap: echo tools up
  reactions:
    - { on: joined, group: web, run: 'echo "$DROVER_IDENTITY saw web grow"' }
    - { on: terminated, group: web, run: 'echo "$DROVER_IDENTITY forgets the web host"' }
`;

interface RunRow {
  runId: string;
  caller: string;
  status: string;
  createdAt: number;
}

const allRuns = async (): Promise<RunRow[]> =>
  JSON.parse((await cli(['runs', '--json'])).stdout).runs as RunRow[];
const reactionRuns = async (on = 'joined'): Promise<RunRow[]> =>
  (await allRuns()).filter((r) => r.caller.startsWith(`reaction:tools:web-${on}:`));

interface EventRow {
  type: string;
  runId?: string;
  identity?: string;
  detail: Record<string, unknown>;
}
const events = async (): Promise<EventRow[]> => {
  const out = await cli(['events', '--json']);
  expect(out.code, out.stderr).toBe(0);
  return JSON.parse(out.stdout).events as EventRow[];
};

// Short debounce windows: a reaction's run starts when its window closes.
const previousWindow = process.env.DROVER_REACTION_WINDOW_SEC;

beforeAll(async () => {
  process.env.DROVER_REACTION_WINDOW_SEC = '2';
  t = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'drover-reactions-'));
  await startFleet(t, [{ identity: 'tools-1', facts: { group: 'tools' } }]);
}, 60_000);
afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (previousWindow === undefined) delete process.env.DROVER_REACTION_WINDOW_SEC;
  else process.env.DROVER_REACTION_WINDOW_SEC = previousWindow;
});

describe('reactions', () => {
  it('apply stores them, and diff then agrees', async () => {
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, FLEET);
    const apply = await cli(['fleet', 'apply', '--file', file, '--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('create    reactions of tools');
    expect(apply.stderr).toContain('on web joined: "echo \\"$DROVER_IDENTITY saw web grow\\""');
    const diff = await cli(['fleet', 'diff', '--file', file, '--json']);
    expect(diff.code, diff.stdout).toBe(0);
    expect(JSON.parse(diff.stdout).reactions).toEqual([
      expect.objectContaining({ group: 'tools', state: 'equal' }),
    ]);
    // Without the reactions, diff says they are extra, and apply removes them.
    const bare = join(dir, 'bare.yaml');
    writeFileSync(bare, FLEET.replace(/ {2}reactions:[\s\S]*$/, ''));
    const extra = await cli(['fleet', 'diff', '--file', bare]);
    expect(extra.code).toBe(1);
    expect(extra.stdout).toContain('extra    reactions of tools');
    expect((await cli(['fleet', 'apply', '--file', bare, '--yes'])).code).toBe(0);
    expect((await cli(['fleet', 'diff', '--file', file])).code).toBe(1);
    expect((await cli(['fleet', 'apply', '--file', file, '--yes'])).code).toBe(0);
  });

  it('a web instance joining runs the reaction on the tools hosts, recorded with its cause', async () => {
    const up = await cli(['local', 'scale', 'web', '--to', '1']);
    expect(up.code, up.stderr).toBe(0);
    const runs = await eventually(
      async () => {
        const found = await reactionRuns();
        return found.some((r) => r.status === 'succeeded') ? found : undefined;
      },
      60_000,
      'the reaction run to succeed',
    );
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run!.runId).toMatch(/^reaction-joined-\d+-[0-9a-f]{10}-tools$/);
    expect(run!.caller).toMatch(/^reaction:tools:web-joined:web-asg-1$/);
    const show = await cli(['show', run!.runId]);
    expect(show.stdout).toContain('tools-1 saw web grow');

    const started = (await events()).filter((e) => e.type === 'Run Started' && e.runId === run!.runId);
    expect(started).toHaveLength(1);
    expect(started[0]!.detail).toMatchObject({ cause: 'web host web-asg-1 joined', hosts: ['web-asg-1'] });
  }, 90_000);

  it('a web instance leaving tells the tools hosts before its decommission runs, and only then', async () => {
    const down = await cli(['local', 'scale', 'web', '--to', '0']);
    expect(down.code, down.stderr).toBe(0);
    const timeline = await eventually(
      async () => {
        const all = await events();
        return all.some((e) => e.type === 'Node Terminated' && e.identity === 'web-asg-1') ? all : undefined;
      },
      90_000,
      'web-asg-1 to be terminated',
    );
    const [told, ...more] = await reactionRuns('terminated');
    expect(more).toEqual([]);
    expect(told!.runId).toMatch(/^reaction-before-/);
    expect(told!.caller).toBe('reaction:tools:web-terminated:web-asg-1');
    expect(told!.status).toBe('succeeded');
    expect((await cli(['show', told!.runId])).stdout).toContain('tools-1 forgets the web host');
    const decommission = (await allRuns()).find((r) => r.caller === 'lifecycle:drover-local-terminate');
    expect(decommission).toBeDefined();
    expect(told!.createdAt).toBeLessThan(decommission!.createdAt);

    // The timeline, oldest first: the reaction starts and completes, then the decommission ends.
    const at = (match: (e: EventRow) => boolean) => timeline.findIndex(match);
    const reactionStarted = at((e) => e.type === 'Run Started' && e.runId === told!.runId);
    const reactionDone = at((e) => e.type === 'Run Completed' && e.runId === told!.runId);
    const decommissionDone = at((e) => e.type === 'Run Completed' && e.runId === decommission!.runId);
    const finished = at((e) => e.type === 'Decommission Finished' && e.runId === decommission!.runId);
    expect(reactionStarted).toBeGreaterThanOrEqual(0);
    expect(reactionStarted).toBeLessThan(reactionDone);
    expect(reactionDone).toBeLessThan(decommissionDone);
    expect(decommissionDone).toBeLessThan(finished);
    expect(timeline[finished]!.detail).toMatchObject({
      reactions: [{ runId: told!.runId, status: 'succeeded' }],
    });

    // The text timeline says so too.
    const text = (await cli(['events', '--type', 'run-started'])).stdout;
    expect(text).toMatch(/Run Started .*run=reaction-before-.*cause="web host web-asg-1 terminated"/);

    // Its Node Terminated sets off no second run of the same reaction, after its window too.
    await new Promise((r) => setTimeout(r, 5_000));
    expect((await reactionRuns('terminated')).map((r) => r.runId)).toEqual([told!.runId]);
  }, 150_000);
});
