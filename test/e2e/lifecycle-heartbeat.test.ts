/**
 * A bootstrap longer than the lifecycle hook's heartbeat timeout: the lifecycle state machine
 * records lifecycle heartbeats between its waits, so Auto Scaling keeps the instance waiting and
 * the launch continues. Waits are 5 s slices here (DROVER_LIFECYCLE_SLICE_SEC) and the hook's
 * heartbeat timeout 30 s, AWS's minimum; the bootstrap takes 40 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeAutoScalingGroupsCommand,
  PutLifecycleHookCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { EventLog } from '#shared/event-log.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';

let t: TestStack;
let asg: AutoScalingClient;
const previousSlice = process.env.DROVER_LIFECYCLE_SLICE_SEC;

beforeAll(async () => {
  // The local stack hosts the handlers in this process: they read this as they would in Lambda.
  process.env.DROVER_LIFECYCLE_SLICE_SEC = '5';
  t = await startTestStack();
  asg = t.autoscaling;
}, 60_000);
afterAll(async () => {
  await stopCliProcesses();
  await t?.stop();
  if (previousSlice === undefined) delete process.env.DROVER_LIFECYCLE_SLICE_SEC;
  else process.env.DROVER_LIFECYCLE_SLICE_SEC = previousSlice;
});

describe('a long bootstrap', () => {
  it('keeps the launch waiting with lifecycle heartbeats past the hook timeout, then continues it', async () => {
    expect(
      (
        await droverCli(t.home, [
          'lifecycle',
          'set',
          'web',
          '--bootstrap',
          'sleep 40; echo done',
          '--timeout',
          '120',
        ])
      ).code,
    ).toBe(0);
    // Without heartbeats Auto Scaling would apply ABANDON after 30 s of silence.
    await asg.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: 'web',
        LifecycleHookName: 'drover-local-launch',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        HeartbeatTimeout: 30,
        DefaultResult: 'ABANDON',
      }),
    );
    expect((await droverCli(t.home, ['local', 'scale', 'web', '--to', '1'])).code).toBe(0);
    const log = new EventLog(t.db, t.stack.file.eventsTable!);
    const outcome = await eventually(
      async () =>
        (await log.between(Date.now() - 300_000, Date.now() + 60_000)).find((e) =>
          ['Bootstrap Succeeded', 'Bootstrap Failed'].includes(e.type),
        ),
      100_000,
      'the bootstrap to end',
    );
    expect(outcome.type).toBe('Bootstrap Succeeded');
    const groups = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }));
    expect(groups.AutoScalingGroups?.[0]?.Instances?.[0]).toMatchObject({ LifecycleState: 'InService' });
  }, 150_000);
});
