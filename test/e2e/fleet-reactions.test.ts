/**
 * Reactions end to end on the local stack: `fleet apply` stores a group's reactions, a real
 * instance of the local Auto Scaling group `web` launches (`drover local scale`), bootstraps and
 * joins, and the `react` function (delivered by the local event bus, as EventBridge would) starts
 * the reaction as a run on the reacting group's real agent; the run records its cause as caller,
 * and `drover events` shows it (debounce: test/unit/reactions.test.ts).
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
  autoscale: { asg: web, timeout: 120 }
tools:
  bootstrap: echo tools up
  reactions:
    - { on: joined, group: web, run: 'echo "$DROVER_IDENTITY saw web grow"' }
`;

interface RunRow {
  runId: string;
  caller: string;
  status: string;
}

const reactionRuns = async (): Promise<RunRow[]> =>
  (JSON.parse((await cli(['runs', '--json'])).stdout).runs as RunRow[]).filter((r) =>
    r.caller.startsWith('reaction:tools:web-joined:'),
  );

beforeAll(async () => {
  t = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'drover-reactions-'));
  await startFleet(t, [{ identity: 'tools-1', facts: { group: 'tools' } }]);
}, 60_000);
afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
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

    const events = await cli(['events', '--json']);
    expect(events.code, events.stderr).toBe(0);
    const started = (JSON.parse(events.stdout).events as Record<string, unknown>[]).filter(
      (e) => e.type === 'Run Started' && e.runId === run!.runId,
    );
    expect(started).toHaveLength(1);
  }, 90_000);
});
