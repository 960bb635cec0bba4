/**
 * Membership end to end: real agents join, one is killed without a word (no lifecycle hook) and
 * the reaper marks it lost after its missed heartbeats, it comes back, another instance is
 * terminated through EC2's state-change event; `drover events` and `drover find --all` show it
 * all, and a run never expects the hosts that are gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { findDocumentSchema } from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { startAgent, stopAll, type AgentProcess } from '../helpers/processes.ts';
import { droverCli, startDroverCli, stopCliProcesses, type RunningCli } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';

let t: TestStack;
let follower: RunningCli;
const cli = (args: string[]) => droverCli(t.home, args);
const status = async (nodeId: string) =>
  (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }))).Item?.status;

const SHORT = { identity: 'flaky-1', facts: { role: 'web' }, heartbeat: 1 };

beforeAll(async () => {
  t = await startTestStack({ reaperIntervalMs: 250 });
  follower = startDroverCli(t.home, ['events', '--follow', '--jsonl', '--since', '5m']);
  await startFleet(t, [
    { identity: 'steady-1', facts: { role: 'web' }, heartbeat: 60 },
    { identity: 'doomed-1', facts: { role: 'web' }, heartbeat: 60 },
  ]);
}, 60_000);

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('membership end to end', () => {
  let flaky: AgentProcess;

  it('marks a host killed without a hook lost after its missed heartbeats, and a run skips it', async () => {
    flaky = startAgent(t.home, SHORT);
    await eventually(async () => ((await status('flaky-1')) === 'active' ? true : undefined), 30_000);
    flaky.process.kill('SIGKILL');
    await flaky.exited;
    await eventually(async () => ((await status('flaky-1')) === 'lost' ? true : undefined), 30_000, 'lost');

    const find = await cli(['find', '--all', '--json']);
    const hosts = findDocumentSchema.parse(JSON.parse(find.stdout)).hosts;
    expect(hosts.find((h) => h.identity === 'flaky-1')).toMatchObject({
      status: 'lost',
      statusReason: 'missed 3 heartbeats (1 s each)',
    });
    const text = await cli(['find', '--all']);
    expect(text.stdout).toMatch(/Not in service:\n\s+flaky-1\s+lost/);
    expect((await cli(['find'])).stdout).not.toContain('flaky-1');

    const run = await cli(['run', 'true', '-F', 'role=web', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).summary).toMatchObject({ expected: 2 });
  }, 90_000);

  it('brings a lost host back when its agent heartbeats again', async () => {
    flaky = startAgent(t.home, { ...SHORT, heartbeat: 60 });
    await eventually(async () => ((await status('flaky-1')) === 'active' ? true : undefined), 30_000);
    expect((await cli(['find'])).stdout).toContain('flaky-1');
  }, 60_000);

  it('marks a terminated instance at once, and the timeline shows every change', async () => {
    t.stack.bus.put({
      Source: 'aws.ec2',
      DetailType: 'EC2 Instance State-change Notification',
      Detail: JSON.stringify({ 'instance-id': 'doomed-1', state: 'terminated' }),
      EventBusName: 'default',
    });
    await eventually(async () => ((await status('doomed-1')) === 'terminated' ? true : undefined));

    const lines = await eventually(async () => {
      const out = await cli(['events', '--since', '10m', '--node', 'flaky-1', '--node', 'doomed-1']);
      return out.stdout.includes('Node Terminated') && out.stdout.includes('Node Returned')
        ? out.stdout.trim().split('\n')
        : undefined;
    });
    expect(lines.map((l) => /Node \w+/.exec(l)?.[0])).toEqual([
      'Node Joined', // doomed-1 (the fleet started before flaky-1)
      'Node Joined',
      'Node Lost',
      'Node Returned',
      'Node Terminated',
    ]);
    expect(lines.find((l) => l.includes('Node Lost'))).toContain('reason="missed 3 heartbeats (1 s each)"');

    const lost = await cli(['events', '--since', '10m', '--type', 'node-lost', '--json']);
    expect(JSON.parse(lost.stdout).events.map((e: { identity: string }) => e.identity)).toEqual(['flaky-1']);

    const followed = await eventually(async () => {
      const types = follower
        .output()
        .stdout.trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { type: string }).type);
      return types.includes('Node Terminated') ? types : undefined;
    });
    expect(followed.filter((type) => type === 'Node Joined')).toHaveLength(3);
    expect(followed).toContain('Node Lost');
    expect(followed).toContain('Run Completed');
  }, 60_000);
});
