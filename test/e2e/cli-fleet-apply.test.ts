/**
 * `drover fleet apply` and `drover fleet diff` against the local stack (Auto Scaling groups `web`
 * and `db`): the plan first, refusal without a terminal or --yes, the configuration stored as
 * `drover lifecycle` stores it and the hooks on the groups, a second apply changing nothing, and
 * diff's exit codes. Bad input (a missing ASG) changes nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteLifecycleHookCommand, DescribeLifecycleHooksCommand } from '@aws-sdk/client-auto-scaling';
import { createAutoScalingClient } from '#shared/autoscaling.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { droverCli, droverInTerminal, stopCliProcesses } from '../helpers/cli.ts';
import { ROOT } from '../helpers/processes.ts';

let t: TestStack;
let dir: string;
const cli = (args: string[]) => droverCli(t.home, args);

const FLEET = `
__base__:
  decommission: echo leaving
web:
  bootstrap: echo web up
  autoscale: { asg: web, timeout: 120 }
db:
  bootstrap: echo db up
  requires: ['web:1']
  autoscale: { asg: db }
tools:
  bootstrap: echo tools
`;

const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const autoScaling = () =>
  createAutoScalingClient({
    region: t.stack.file.region,
    endpoint: t.stack.file.endpoints.autoscaling,
    credentials: t.stack.file.credentials,
  });

const hooksOn = async (group: string) => {
  const client = autoScaling();
  try {
    const out = await client.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }));
    return (out.LifecycleHooks ?? []).map((h) => h.LifecycleHookName).sort();
  } finally {
    client.destroy();
  }
};

const stored = async () => JSON.parse((await cli(['lifecycle', 'list', '--json'])).stdout).groups;

beforeAll(async () => {
  t = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'drover-fleet-apply-'));
}, 60_000);
afterAll(async () => {
  await stopCliProcesses();
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('drover fleet apply and diff', () => {
  it('diff says every group is missing before anything is applied (exit 1)', async () => {
    const file = write('fleet.yaml', FLEET);
    const diff = await cli(['fleet', 'diff', '--file', file, '--json']);
    expect(diff.code, diff.stderr).toBe(1);
    const doc = JSON.parse(diff.stdout);
    expect(doc.differs).toBe(true);
    expect(doc.groups.map((g: { group: string; state: string }) => [g.group, g.state]).sort()).toEqual([
      ['db', 'missing'],
      ['web', 'missing'],
    ]);
    expect(doc.withoutAsg).toEqual(['tools']);
  });

  it('refuses without a terminal and without --yes, after showing the plan, and stores nothing', async () => {
    const file = write('fleet.yaml', FLEET);
    const apply = await cli(['fleet', 'apply', '--file', file]);
    expect(apply.code).toBe(4);
    expect(apply.stderr).toContain('create    web (Auto Scaling group web)');
    expect(apply.stderr).toContain('hooks: put drover-local-launch and drover-local-terminate on db');
    expect(apply.stderr).toContain('pass --yes');
    expect(await stored()).toEqual([]);
    expect(await hooksOn('web')).toEqual([]);
  });

  it('asks on a terminal; "n" applies nothing (exit 1)', async () => {
    const file = write('fleet.yaml', FLEET);
    const apply = await droverInTerminal(t.home, ['fleet', 'apply', '--file', file], { input: 'n\n' });
    expect(apply.stdout).toContain('Apply these changes to stage local? [y/N]');
    expect(apply.stdout).toContain('Not applied.');
    expect(apply.code).toBe(1);
    expect(await stored()).toEqual([]);
  });

  it('--yes stores each group as drover lifecycle does and puts the hooks on web and db', async () => {
    const file = write('fleet.yaml', FLEET);
    const apply = await cli(['fleet', 'apply', '--file', file, '--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('Applied: 2 groups stored');
    const db = JSON.parse((await cli(['lifecycle', 'show', 'db', '--json'])).stdout);
    expect(db).toMatchObject({
      asg: 'db',
      bootstrap: 'echo db up',
      decommission: 'echo leaving',
      requires: { group: 'web', count: 1 },
      timeoutSec: 900,
    });
    const web = JSON.parse((await cli(['lifecycle', 'show', 'web', '--json'])).stdout);
    expect(web).toMatchObject({ asg: 'web', bootstrap: 'echo web up', timeoutSec: 120 });
    expect(web.requires).toBeUndefined();
    for (const g of ['web', 'db']) {
      expect(await hooksOn(g)).toEqual(['drover-local-launch', 'drover-local-terminate']);
    }
  });

  it('a second apply changes nothing and says so; diff then exits 0', async () => {
    const file = write('fleet.yaml', FLEET);
    const before = await stored();
    const again = await cli(['fleet', 'apply', '--file', file, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const doc = JSON.parse(again.stdout);
    expect(doc).toMatchObject({ changes: false, applied: false });
    expect(doc.plan.groups.map((g: { action: string }) => g.action)).toEqual(['unchanged', 'unchanged']);
    expect(await stored()).toEqual(before); // not even updatedAt moved
    const text = await cli(['fleet', 'apply', '--file', file]);
    expect(text.code).toBe(0);
    expect(text.stderr).toContain('Nothing to change');
    const diff = await cli(['fleet', 'diff', '--file', file]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stderr).toContain('agree');
  });

  it('diff names a changed field and a missing hook; apply puts both right', async () => {
    const file = write('fleet.yaml', FLEET);
    expect((await cli(['lifecycle', 'set', 'web', '--bootstrap', 'echo changed by hand'])).code).toBe(0);
    const client = autoScaling();
    try {
      await client.send(
        new DeleteLifecycleHookCommand({
          AutoScalingGroupName: 'db',
          LifecycleHookName: 'drover-local-launch',
        }),
      );
    } finally {
      client.destroy();
    }
    const diff = await cli(['fleet', 'diff', '--file', file]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toContain('changed  web (web)');
    expect(diff.stdout).toContain('bootstrap: stored "echo changed by hand", file "echo web up"');
    expect(diff.stdout).toContain('equal    db (db), hooks missing');
    const apply = await cli(['fleet', 'apply', '--file', file, '--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('bootstrap: "echo changed by hand" → "echo web up"');
    expect(await hooksOn('db')).toEqual(['drover-local-launch', 'drover-local-terminate']);
    expect((await cli(['fleet', 'diff', '--file', file])).code).toBe(0);
  });

  it('a group naming a missing Auto Scaling group: nothing applied, not even the groups that exist', async () => {
    const file = write(
      'fleet.yaml',
      FLEET.replace('echo db up', 'echo db v2') +
        'ghost:\n  bootstrap: x\n  autoscale: { asg: no-such-asg }\n',
    );
    const before = await stored();
    const apply = await cli(['fleet', 'apply', '--file', file, '--yes']);
    expect(apply.code).toBe(4);
    expect(apply.stderr).toContain('nothing applied: no Auto Scaling group named "no-such-asg"');
    expect(await stored()).toEqual(before);
  });

  it('a barrier on a group without an ASG, or two barriers, is refused before anything is read', async () => {
    const file = write('fleet.yaml', FLEET.replace("requires: ['web:1']", "requires: ['web:1', 'tools:2']"));
    const apply = await cli(['fleet', 'apply', '--file', file, '--yes']);
    expect(apply.code).toBe(4);
    expect(apply.stderr).toContain('db.requires: the lifecycle store holds one barrier per group');
    const other = write('other.yaml', FLEET.replace("requires: ['web:1']", "requires: ['tools:1']"));
    const refused = await cli(['fleet', 'diff', '--file', other]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('db.requires: tools has no autoscale.asg');
  });

  it('extra configurations the stage holds are shown and left alone', async () => {
    const file = write('fleet.yaml', FLEET.replace(/db:\n[\s\S]*?(?=tools:)/, ''));
    const diff = await cli(['fleet', 'diff', '--file', file, '--json']);
    expect(diff.code).toBe(1);
    expect(JSON.parse(diff.stdout).extra).toEqual(['db']);
    const apply = await cli(['fleet', 'apply', '--file', file, '--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('extra     db (stored, not in the file; left alone');
    expect((await stored()).map((c: { asg: string }) => c.asg)).toEqual(['db', 'web']);
  });

  it('applies examples/fleet-local.yaml (the README tour): barrier on db, reactions of body', async () => {
    const example = join(ROOT, 'examples', 'fleet-local.yaml');
    const apply = await cli(['fleet', 'apply', '--file', example, '--yes']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stderr).toContain('reactions of body');
    const web = JSON.parse((await cli(['lifecycle', 'show', 'web', '--json'])).stdout);
    expect(web).toMatchObject({ requires: { group: 'db', count: 1 }, timeoutSec: 300 });
    expect((await cli(['fleet', 'diff', '--file', example])).code).toBe(0);
  });
});
