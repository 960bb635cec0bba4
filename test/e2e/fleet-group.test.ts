/**
 * Groups of the fleet file on a live fleet: ordinal addressing (`drover run --group body
 * --ordinal 1`) with hosts that joined in a known order, and `drover fleet deploy` rolling a
 * group's bootstrap in batches, stopping at --max-errors. Local stack, real agent processes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDocumentSchema } from '#cli/output/schemas.ts';
import { fleetHostsDocumentSchema } from '#cli/fleet-file/output-schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { addStaleHost, startFleet } from '../helpers/fleet.ts';

let t: TestStack;
let dir: string;
let fleetFile: string;

/** The order hosts join in; identity order differs on purpose (body-c joins first). */
const JOIN_ORDER = [
  { identity: 'body-c', facts: { group: 'body' } },
  { identity: 'body-a', facts: { group: 'body' } },
  { identity: 'nucleus-1', facts: { group: 'nucleus' } },
  { identity: 'body-b', facts: { group: 'body' } },
  { identity: 'bee-1', facts: { group: 'bee' } },
  { identity: 'bee-2', facts: { group: 'bee' } },
  { identity: 'bee-3', facts: { group: 'bee' } },
  { identity: 'bee-4', facts: { group: 'bee' } },
];

const FLEET_YAML = `
__base__:
  region: us-east-1
bee:
  # bee-2's bootstrap fails.
  bootstrap: test "$DROVER_IDENTITY" != bee-2 && echo "bootstrapped $DROVER_IDENTITY"
body:
  bootstrap: echo "body $DROVER_IDENTITY"
nucleus:
  run_list: ['recipe[zk]']
www: {}
`;

const cli = (args: string[]) => droverCli(t.home, args, { env: { DROVER_FLEET: fleetFile } });
const stdoutHosts = (stdout: string) => [...stdout.matchAll(/^>>>>>> (\S+) exit code/gm)].map((m) => m[1]);

beforeAll(async () => {
  t = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'drover-fleet-group-'));
  fleetFile = join(dir, 'fleet.yaml');
  writeFileSync(fleetFile, FLEET_YAML);
  // One at a time, each in the facts table before the next starts: a known join order.
  for (const spec of JOIN_ORDER) {
    await startFleet(t, [spec]);
    await new Promise((r) => setTimeout(r, 20));
  }
  // A body host that joined before all of them but went silent: it holds no place.
  await addStaleHost(t, 'body-0', { group: 'body' });
}, 180_000);

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('drover run --group --ordinal', () => {
  it('addresses the nth host of the group in join order, not in identity order', async () => {
    const [first, second, third, beyond] = await Promise.all([
      cli(['run', 'echo "$DROVER_IDENTITY"', '--group', 'body', '--ordinal', '0']),
      cli(['run', 'echo "$DROVER_IDENTITY"', '--group', 'body', '--ordinal', '1']),
      cli(['run', 'echo "$DROVER_IDENTITY"', '--group', 'body', '--ordinal', '2']),
      cli(['run', 'echo "$DROVER_IDENTITY"', '--group', 'body', '--ordinal', '3']),
    ]);

    expect(first.code).toBe(0);
    expect(stdoutHosts(first.stdout)).toEqual(['body-c']);
    expect(first.stdout).toContain('>>>>>> body-c exit code: (0):\nbody-c\n');
    expect(stdoutHosts(second.stdout)).toEqual(['body-a']);
    expect(stdoutHosts(third.stdout)).toEqual(['body-b']);
    expect(beyond.code).toBe(1);
  });

  it('addresses the whole group with --group alone, and refuses --ordinal without it', async () => {
    const [group, noGroup] = await Promise.all([
      cli(['run', 'true', '--group', 'body', '--json']),
      cli(['run', 'true', '--ordinal', '0']),
    ]);

    const doc = runDocumentSchema.parse(JSON.parse(group.stdout));
    expect(doc.hosts.map((h) => h.identity).sort()).toEqual(['body-a', 'body-b', 'body-c']);
    expect(noGroup.code).toBe(4);
    expect(noGroup.stderr).toContain('--ordinal needs --group');
  });
});

describe('drover fleet hosts', () => {
  it('lists the group in ordinal order, the order --ordinal picks from', async () => {
    const [text, json, none] = await Promise.all([
      cli(['fleet', 'hosts', 'body']),
      cli(['fleet', 'hosts', 'body', '--json']),
      cli(['fleet', 'hosts', 'cell']),
    ]);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^0 {2}body-c {2}joined \d+(ms|s) ago\n1 {2}body-a {2}joined \d+(ms|s) ago\n2 {2}body-b {2}joined \d+(ms|s) ago\n$/,
    );
    expect(text.stderr).toBe('3 hosts of group body in service, in ordinal order.\n');
    const doc = fleetHostsDocumentSchema.parse(JSON.parse(json.stdout));
    expect(doc.hosts.map((h) => [h.ordinal, h.identity])).toEqual([
      [0, 'body-c'],
      [1, 'body-a'],
      [2, 'body-b'],
    ]);
    expect(doc.hosts[0]!.joinedAt).toBeLessThan(doc.hosts[1]!.joinedAt);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('No host of group cell is in service (hosts report the fact group: cell).\n');
  });
});

describe('drover fleet deploy', () => {
  it('runs the bootstrap in batches and starts no batch after --max-errors is exceeded', async () => {
    const r = await cli(['fleet', 'deploy', 'bee', '--batch', '1', '--max-errors', '0', '--json']);

    // drover run's exit codes: hosts skipped (3) outrank a failed command (2).
    expect(r.code).toBe(3);
    const doc = runDocumentSchema.parse(JSON.parse(r.stdout));
    const status = Object.fromEntries(doc.hosts.map((h) => [h.identity, h.status]));
    // Batches go in identity order: bee-1 succeeds, bee-2 fails, bee-3 and bee-4 never start.
    expect(status).toEqual({
      'bee-1': 'succeeded',
      'bee-2': 'failed',
      'bee-3': 'skipped',
      'bee-4': 'skipped',
    });
    expect(doc.hosts.find((h) => h.identity === 'bee-1')?.stdout).toBe('bootstrapped bee-1\n');
    expect(doc.summary).toMatchObject({ expected: 4, succeeded: 1, failed: 1, skipped: 2 });
  });

  it('goes on past failures up to --max-errors, and is a run like any other', async () => {
    const r = await cli(['fleet', 'deploy', 'bee', '--batch', '2', '--max-errors', '1']);

    expect(r.code).toBe(2);
    expect(stdoutHosts(r.stdout).sort()).toEqual(['bee-1', 'bee-2', 'bee-3', 'bee-4']);
    expect(r.stdout).toContain('>>>>>> bee-4 exit code: (0):\nbootstrapped bee-4\n');
    expect(r.stderr).toContain(
      `Deploying bee (${fleetFile}): test "$DROVER_IDENTITY" != bee-2 && echo "bootstrapped $DROVER_IDENTITY"\n` +
        '  on its in-service hosts, 2 at a time, no batch after more than 1 failed\n',
    );
    const runs = await cli(['runs', '--limit', '1', '--json']);
    expect(JSON.parse(runs.stdout).runs[0]).toMatchObject({
      command: { shell: 'test "$DROVER_IDENTITY" != bee-2 && echo "bootstrapped $DROVER_IDENTITY"' },
      filter: { fact: ['group="bee"'] },
    });
  });

  it("deploys chef-client on the group's role by default, and refuses a group with nothing to run", async () => {
    const [nucleus, www, missing] = await Promise.all([
      cli(['fleet', 'deploy', 'nucleus', '--json']),
      cli(['fleet', 'deploy', 'www']),
      cli(['fleet', 'deploy', 'ghost']),
    ]);

    // No chef-client on these hosts: the default command ran and failed as the shell reports.
    const doc = runDocumentSchema.parse(JSON.parse(nucleus.stdout));
    expect(doc.hosts.map((h) => [h.identity, h.exitCode])).toEqual([['nucleus-1', 127]]);
    expect(www.code).toBe(4);
    expect(www.stderr).toContain('group www has no bootstrap command to deploy');
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('no group "ghost" in the fleet file');
  });
});
