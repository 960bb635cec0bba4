/**
 * Dispatch fan-out end to end: `drover run` as a child process, real agent processes, the local
 * stack with one host a dispatch group, so the run state machine's Map sends each host's request
 * from its own Dispatch invocation (and signature).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { batchSk, type BatchItem } from '#shared/runs-table.ts';
import { GROUP_SIZE_ENV } from '#functions/run/dispatch-groups.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';

let t: TestStack;

const FLEET = ['fan-a', 'fan-b', 'fan-c'].map((identity) => ({
  identity,
  facts: { role: 'fan' },
  classes: [],
}));

beforeAll(async () => {
  // The stack's Plan runs in this process and reads the group size on each invocation.
  process.env[GROUP_SIZE_ENV] = '1';
  t = await startTestStack();
  await startFleet(t, FLEET);
}, 120_000);

afterAll(async () => {
  delete process.env[GROUP_SIZE_ENV];
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('drover run through the Dispatch fan-out', () => {
  it('runs on every host, each sent by its own group, with the usual output and exit code', async () => {
    const r = await droverCli(t.home, ['run', 'echo "I am $DROVER_IDENTITY"', '-F', 'role=fan', '--json']);

    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runId: string; hosts: { identity: string; stdout: string }[] };
    expect(doc.hosts.map((h) => h.identity).sort()).toEqual(['fan-a', 'fan-b', 'fan-c']);
    for (const host of doc.hosts) expect(host.stdout).toBe(`I am ${host.identity}\n`);
    const batch = await t.db.send(
      new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId: doc.runId, sk: batchSk(0) } }),
    );
    expect((batch.Item as BatchItem).groupCount).toBe(3);
  });
});
