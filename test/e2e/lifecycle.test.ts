/**
 * Auto Scaling lifecycle hooks end to end on the local stack: `drover lifecycle set`, then
 * `drover local scale` launches and terminates instances that are real agents, and the lifecycle
 * state machine bootstraps and decommissions them with normal runs.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { EventLog } from '#shared/event-log.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';

let t: TestStack;
let asg: AutoScalingClient;
let log: EventLog;
const cli = (args: string[]) => droverCli(t.home, args);

beforeAll(async () => {
  t = await startTestStack();
  asg = t.autoscaling;
  log = new EventLog(t.db, t.stack.file.eventsTable!);
}, 60_000);
afterAll(async () => {
  await stopCliProcesses();
  await t?.stop();
});

const instances = async (group: string) =>
  (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] })))
    .AutoScalingGroups?.[0]?.Instances ?? [];
const events = async (nodeId: string) =>
  (await log.between(Date.now() - 600_000, Date.now() + 60_000)).filter((e) => e.nodeId === nodeId);
const eventOf = async (nodeId: string, type: string) => (await events(nodeId)).find((e) => e.type === type);
const node = async (nodeId: string) =>
  (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }))).Item;

/** Auto Scaling's event for an instance whose agent never starts. */
function launchWithoutAgent(group: string, instanceId: string, hook = 'drover-local-launch'): void {
  t.stack.bus.put({
    Source: 'aws.autoscaling',
    DetailType: 'EC2 Instance-launch Lifecycle Action',
    Detail: JSON.stringify({
      // A UUID, as Auto Scaling's tokens are (its API refuses any other length).
      LifecycleActionToken: randomUUID(),
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      EC2InstanceId: instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    }),
    EventBusName: 'default',
  });
}

describe('lifecycle hooks', () => {
  it('bootstraps a launching instance with a run on it, then continues the launch', async () => {
    const set = await cli([
      'lifecycle',
      'set',
      'web',
      '--bootstrap',
      'echo bootstrapped $DROVER_RUN_ID',
      '--decommission',
      'echo draining',
      '--timeout',
      '60',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect((await cli(['local', 'scale', 'web', '--to', '1'])).code).toBe(0);
    const [launched] = await instances('web');
    const id = launched!.InstanceId!;

    const succeeded = await eventually(
      async () => eventOf(id, 'Bootstrap Succeeded'),
      60_000,
      'Bootstrap Succeeded',
    );
    expect((await instances('web'))[0]).toMatchObject({ LifecycleState: 'InService' });
    const show = JSON.parse((await cli(['show', succeeded.detail.runId as string, '--json'])).stdout);
    expect(show.hosts).toEqual([
      expect.objectContaining({
        nodeId: id,
        status: 'succeeded',
        stdout: expect.stringContaining('bootstrapped'),
      }),
    ]);
    expect((await events(id)).map((e) => e.type)).toEqual(
      expect.arrayContaining(['Node Joined', 'Bootstrap Started', 'Bootstrap Succeeded']),
    );
  }, 90_000);

  it('decommissions a live host before it terminates, then deletes its inbox and marks it terminated', async () => {
    const [running] = await instances('web');
    const id = running!.InstanceId!;
    const inbox = (await node(id))?.inbox as string;
    expect((await cli(['local', 'scale', 'web', '--to', '0'])).code).toBe(0);

    const finished = await eventually(
      async () => eventOf(id, 'Decommission Finished'),
      60_000,
      'Decommission Finished',
    );
    expect(finished.detail).toMatchObject({ result: 'CONTINUE', reason: 'decommission succeeded' });
    await eventually(async () => ((await node(id))?.status === 'terminated' ? true : undefined));
    expect(await instances('web')).toEqual([]);
    const name = inbox.slice(inbox.lastIndexOf('/') + 1);
    await expect(t.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).rejects.toThrow();
  }, 90_000);

  it('abandons a launch whose bootstrap fails, keeping the output', async () => {
    const set = await cli([
      'lifecycle',
      'set',
      'web',
      '--bootstrap',
      'echo cannot provision >&2; exit 3',
      '--timeout',
      '60',
    ]);
    expect(set.code).toBe(0);
    expect((await cli(['local', 'scale', 'web', '--to', '1'])).code).toBe(0);
    const [launched] = await instances('web');
    const id = launched!.InstanceId!;

    const failed = await eventually(async () => eventOf(id, 'Bootstrap Failed'), 60_000, 'Bootstrap Failed');
    expect(failed.detail).toMatchObject({ result: 'ABANDON', reason: 'bootstrap failed (exit 3)' });
    await eventually(async () => ((await instances('web')).length === 0 ? true : undefined));
    const show = JSON.parse((await cli(['show', failed.detail.runId as string, '--json'])).stdout);
    expect(show.hosts[0]).toMatchObject({ exitCode: 3, stderr: 'cannot provision\n' });
  }, 90_000);

  it('abandons a launch whose agent never joins, at the timeout, with the reason recorded', async () => {
    expect((await cli(['lifecycle', 'set', 'db', '--bootstrap', 'true', '--timeout', '30'])).code).toBe(0);
    launchWithoutAgent('db', 'i-0000never');
    const failed = await eventually(
      async () => eventOf('i-0000never', 'Bootstrap Failed'),
      70_000,
      'Bootstrap Failed',
    );
    expect(failed.detail).toMatchObject({
      result: 'ABANDON',
      reason: "the instance's agent never joined within the timeout",
    });
  }, 90_000);

  it("leaves another stage's hook alone", async () => {
    launchWithoutAgent('web', 'i-0000other', 'drover-prod-launch');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await events('i-0000other')).toEqual([]);
  });
});
