/**
 * `drover run` end to end: the CLI as a child process, real agent processes, the local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { isAlive, stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';

let t: TestStack;

const FLEET = [
  { identity: 'web-1', facts: { role: 'web', env: 'production', az: 'us-east-1a' }, classes: ['nginx'] },
  { identity: 'web-2', facts: { role: 'web', env: 'staging', az: 'us-east-1b' }, classes: ['nginx'] },
  { identity: 'db-1', facts: { role: 'db', env: 'production', az: 'us-east-1a' }, classes: ['postgresql'] },
];

const blocks = (stdout: string) =>
  [...stdout.matchAll(/^>>>>>> (\S+) exit code: \((.+)\):$/gm)].map((m) => [m[1], m[2]]);
const hostsIn = (stdout: string) =>
  blocks(stdout)
    .map(([host]) => host)
    .sort();

beforeAll(async () => {
  t = await startTestStack();
  await startFleet(t, FLEET);
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('drover run', () => {
  it('prints exactly the matching hosts and a correct summary', async () => {
    const r = await droverCli(t.home, ['run', 'echo "I am $DROVER_IDENTITY"', '-F', 'role=web']);

    expect(r.code).toBe(0);
    expect(blocks(r.stdout)).toEqual(
      expect.arrayContaining([
        ['web-1', '0'],
        ['web-2', '0'],
      ]),
    );
    expect(hostsIn(r.stdout)).toEqual(['web-1', 'web-2']);
    expect(r.stdout).toContain('>>>>>> web-1 exit code: (0):\nI am web-1\n');
    expect(r.stdout).toContain('Got response from 2 out of 2/2 (discovered/expected) - exit code (0)');
    expect(r.stdout).toMatch(/Finished processing 2 \/ 2 hosts in \d+ ms/);
  });

  it('ANDs two fact filters', async () => {
    const r = await droverCli(t.home, ['run', 'true', '-F', 'role=web', '-F', 'env=production']);

    expect(r.code).toBe(0);
    expect(hostsIn(r.stdout)).toEqual(['web-1']);
  });

  it('combines a class filter with a negated fact filter', async () => {
    const r = await droverCli(t.home, ['run', 'true', '-C', 'nginx', '-F', 'env!=production']);
    const compound = await droverCli(t.home, ['run', 'true', '-S', 'not class:nginx and az=us-east-1a']);

    expect(hostsIn(r.stdout)).toEqual(['web-2']);
    expect(hostsIn(compound.stdout)).toEqual(['db-1']);
  });

  it('exits 2 when a command fails on one host and shows that host its exit code', async () => {
    const r = await droverCli(t.home, ['run', '[ "$DROVER_IDENTITY" = web-2 ] && exit 7; echo fine']);

    expect(r.code).toBe(2);
    expect(blocks(r.stdout)).toEqual(
      expect.arrayContaining([
        ['web-2', '7'],
        ['web-1', '0'],
        ['db-1', '0'],
      ]),
    );
    expect(r.stdout).toContain('Got response from 3 out of 3/3 (discovered/expected) - exit code (2)');
  });

  it('kills a command that outlives -t, lists its host as timed out and ends on time', async () => {
    const pidFile = join(t.home, 'sleeper.pid');
    const started = Date.now();
    const r = await droverCli(t.home, ['run', `echo $$ > ${pidFile}; sleep 30`, '-I', 'web-1', '-t', '2']);
    const elapsed = Date.now() - started;

    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Timeout in response from:\n    web-1');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(false);
    // It did not wait for the 30 s sleep.
    expect(elapsed).toBeLessThan(25_000);
  });

  it('gives each of two simultaneous runs exactly its own results', async () => {
    const [a, b] = await Promise.all([
      droverCli(t.home, ['run', 'echo $DROVER_RUN_ID', '--json']),
      droverCli(t.home, ['run', 'echo $DROVER_RUN_ID', '--json']),
    ]);
    const docA = JSON.parse(a.stdout) as { runId: string; hosts: { stdout: string }[] };
    const docB = JSON.parse(b.stdout) as { runId: string; hosts: { stdout: string }[] };

    expect(docA.runId).not.toBe(docB.runId);
    expect(docA.hosts.map((h) => h.stdout)).toEqual(Array(3).fill(`${docA.runId}\n`));
    expect(docB.hosts.map((h) => h.stdout)).toEqual(Array(3).fill(`${docB.runId}\n`));
  });

  it('caps 200 KB of output, reports the truncation and keeps the real exit code', async () => {
    const command = "head -c 204800 /dev/zero | tr '\\0' x; echo; echo THE-END; exit 5";
    const json = await droverCli(t.home, ['run', command, '-I', 'web-1', '--json']);
    const text = await droverCli(t.home, ['run', command, '-I', 'web-1']);
    const host = (JSON.parse(json.stdout) as { hosts: Record<string, unknown>[] }).hosts[0]!;

    expect(json.code).toBe(2);
    expect(host).toMatchObject({
      exitCode: 5,
      stdoutTruncated: true,
      stdoutBytes: 204_809,
      status: 'failed',
    });
    expect(String(host.stdout).length).toBeLessThan(70_000);
    expect(String(host.stdout)).toMatch(/THE-END\n$/);
    expect(text.stdout).toContain('>>>>>> web-1 exit code: (5):');
    expect(text.stdout).toMatch(/\[stdout truncated: 204809 bytes/);
  });

  it('exits 1 when the filter matches nothing', async () => {
    const r = await droverCli(t.home, ['run', 'true', '-F', 'role=nothing']);

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('No hosts matched');
    expect(r.stdout).toBe('');
  });

  it('keeps bash semantics: pipefail and PIPESTATUS', async () => {
    const r = await droverCli(t.home, ['run', 'set -o pipefail; false | true', '-I', 'web-1']);
    const s = await droverCli(t.home, ['run', 'false | true; echo "status ${PIPESTATUS[0]}"', '-I', 'web-1']);

    expect(r.code).toBe(2);
    expect(blocks(r.stdout)).toEqual([['web-1', '1']]);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('status 1');
  });

  it('refuses a bad filter with its column and exit code 4, before anything is sent', async () => {
    const before = await t.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: t.stack.file.stateMachines.run }),
    );
    const r = await droverCli(t.home, ['run', 'true', '-S', 'role=web and (']);
    const after = await t.sfn.send(
      new ListExecutionsCommand({ stateMachineArn: t.stack.file.stateMachines.run }),
    );

    expect(r.code).toBe(4);
    expect(r.stderr).toContain('column 15');
    expect(r.stderr).toContain('role=web and (\n');
    expect(after.executions?.length).toBe(before.executions?.length);
  });
});
