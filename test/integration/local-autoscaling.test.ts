/**
 * The local Auto Scaling through the real @aws-sdk/client-auto-scaling: AWS's validations and
 * error codes, lifecycle actions held open and completed, instances that are real agents, and the
 * events AWS would emit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { BusEvent } from '#local/event-bus.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';

let t: TestStack;
let asg: AutoScalingClient;
const seen: BusEvent[] = [];

beforeAll(async () => {
  t = await startTestStack();
  t.stack.bus.subscribe((e) => seen.push(e));
  asg = t.autoscaling;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const instances = async (group: string) =>
  (await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] })))
    .AutoScalingGroups?.[0]?.Instances ?? [];
const lifecycleEvents = (kind: 'launch' | 'terminate') =>
  seen.filter((e) => e['detail-type'] === `EC2 Instance-${kind} Lifecycle Action`);
const node = async (nodeId: string) =>
  (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }))).Item;

describe('local Auto Scaling', () => {
  it('refuses hooks AWS refuses, with its error codes', async () => {
    const put = (input: Partial<ConstructorParameters<typeof PutLifecycleHookCommand>[0]>) =>
      asg.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: 'web',
          LifecycleHookName: 'h',
          LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          ...input,
        }),
      );
    await expect(put({ AutoScalingGroupName: 'nope' })).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(put({ HeartbeatTimeout: 29 })).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(put({ HeartbeatTimeout: 7201 })).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(put({ LifecycleHookName: 'bad name!' })).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(put({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_REBOOTING' })).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(
      asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 21 })),
    ).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });

  it('holds a launch for drover, continues it, then holds the termination and ends it', async () => {
    // Hooks of someone else (not drover-local-*): drover's lifecycle rule leaves their actions alone.
    for (const [name, transition, result] of [
      ['test-launch', 'autoscaling:EC2_INSTANCE_LAUNCHING', 'ABANDON'],
      ['test-terminate', 'autoscaling:EC2_INSTANCE_TERMINATING', 'CONTINUE'],
    ] as const) {
      await asg.send(
        new PutLifecycleHookCommand({
          AutoScalingGroupName: 'web',
          LifecycleHookName: name,
          LifecycleTransition: transition,
          HeartbeatTimeout: 300,
          DefaultResult: result,
        }),
      );
    }
    const hooks = await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web' }));
    expect(hooks.LifecycleHooks?.map((h) => [h.LifecycleHookName, h.DefaultResult]).sort()).toEqual([
      ['test-launch', 'ABANDON'],
      ['test-terminate', 'CONTINUE'],
    ]);

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    const [launched] = await instances('web');
    expect(launched).toMatchObject({ LifecycleState: 'Pending:Wait' });
    const id = launched!.InstanceId!;
    expect(lifecycleEvents('launch').map((e) => e.detail)).toContainEqual(
      expect.objectContaining({
        EC2InstanceId: id,
        LifecycleHookName: 'test-launch',
        AutoScalingGroupName: 'web',
      }),
    );
    // The instance is a real agent: it joins with the instance id and its group.
    const joined = await eventually(async () => node(id), 30_000, 'the instance to join');
    expect(joined).toMatchObject({ asg: 'web', facts: { role: 'web', asg: 'web' } });

    const token = (lifecycleEvents('launch').at(-1)!.detail as { LifecycleActionToken: string })
      .LifecycleActionToken;
    const complete = (result: string, by: { token?: string; instance?: string }, hook = 'test-launch') =>
      asg.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: 'web',
          LifecycleHookName: hook,
          LifecycleActionResult: result,
          LifecycleActionToken: by.token,
          InstanceId: by.instance,
        }),
      );
    await asg.send(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: 'web',
        LifecycleHookName: 'test-launch',
        LifecycleActionToken: token,
      }),
    );
    await expect(complete('MAYBE', { token })).rejects.toMatchObject({ name: 'ValidationError' });
    await complete('CONTINUE', { token });
    expect((await instances('web'))[0]).toMatchObject({ LifecycleState: 'InService' });
    // A second completion finds no action (Auto Scaling answers each action once).
    await expect(complete('CONTINUE', { token })).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('No active Lifecycle Action'),
    });

    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 0 }));
    expect((await instances('web'))[0]).toMatchObject({ LifecycleState: 'Terminating:Wait' });
    await complete('CONTINUE', { instance: id }, 'test-terminate');
    expect(await instances('web')).toEqual([]);
    await eventually(async () => ((await node(id))?.status === 'terminated' ? true : undefined));
  }, 60_000);

  it('terminates an instance whose launch is abandoned', async () => {
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    const [launched] = await instances('web');
    await eventually(async () => node(launched!.InstanceId!), 30_000, 'the instance to join');
    await asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: 'web',
        LifecycleHookName: 'test-launch',
        LifecycleActionResult: 'ABANDON',
        InstanceId: launched!.InstanceId!,
      }),
    );
    expect(await instances('web')).toEqual([]);
    await eventually(async () =>
      (await node(launched!.InstanceId!))?.status === 'terminated' ? true : undefined,
    );
  }, 60_000);
});
