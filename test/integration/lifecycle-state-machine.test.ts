/**
 * lifecycle.asl.json on the local stack, path by path, started as the EventBridge rule starts it
 * (the event is the input): answers known at once, a barrier met and timed out, a bad event, and
 * an answer Auto Scaling refuses. The e2e suite (test/e2e/lifecycle.test.ts) covers the bootstrap,
 * decommission and never-joined paths with real instances.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { putDroverHooks } from '#shared/autoscaling.ts';
import {
  DynamoLifecycleConfigStore,
  type LifecycleConfigInput,
  validateLifecycleConfig,
} from '#shared/stores/lifecycle-config.ts';
import { EventLog } from '#shared/event-log.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';

let t: TestStack;
let asg: AutoScalingClient;
let configs: DynamoLifecycleConfigStore;
let n = 0;

beforeAll(async () => {
  t = await startTestStack();
  asg = t.autoscaling;
  configs = new DynamoLifecycleConfigStore(t.db, t.stack.file.lifecycleTable!);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const configure = (config: Omit<LifecycleConfigInput, 'updatedAt' | 'updatedBy'>) =>
  configs.put(validateLifecycleConfig({ ...config, updatedAt: Date.now(), updatedBy: 'test' }));

function lifecycleEvent(
  kind: 'launch' | 'terminate',
  group: string,
  instanceId: string,
  hook = `drover-local-${kind}`,
) {
  return {
    version: '0',
    id: `e-${++n}`,
    source: 'aws.autoscaling',
    'detail-type': `EC2 Instance-${kind} Lifecycle Action`,
    time: new Date().toISOString(),
    detail: {
      // A UUID, as Auto Scaling's tokens are (its API refuses any other length).
      LifecycleActionToken: randomUUID(),
      AutoScalingGroupName: group,
      LifecycleHookName: hook,
      EC2InstanceId: instanceId,
      LifecycleTransition: `autoscaling:EC2_INSTANCE_${kind === 'launch' ? 'LAUNCHING' : 'TERMINATING'}`,
    },
  };
}

/** Runs the lifecycle state machine on `input` to its end; returns status, output, error. */
async function execute(input: unknown, timeoutMs = 30_000) {
  const { executionArn } = await t.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: t.stack.file.stateMachines.lifecycle!,
      name: `t-${++n}`,
      input: JSON.stringify(input),
    }),
  );
  return eventually(
    async () => {
      const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (d.status === 'RUNNING') return undefined;
      return {
        status: d.status,
        error: d.error,
        output: d.output
          ? (JSON.parse(d.output) as { result?: { result: string; reason: string } })
          : undefined,
      };
    },
    timeoutMs,
    'the lifecycle execution to end',
  );
}

describe('lifecycle state machine', () => {
  it('fails on an event that is not a lifecycle action, naming why', async () => {
    expect(await execute({ source: 'aws.autoscaling', detail: {} })).toMatchObject({
      status: 'FAILED',
      error: 'InvalidLifecycleEvent',
    });
  });

  it('continues a launch at once when the group has no bootstrap command', async () => {
    await putDroverHooks(asg, 'local', 'web');
    const out = await execute(lifecycleEvent('launch', 'web', 'i-0nocfg'));
    // The action is unknown to the local Auto Scaling: the answer is recorded as already ended.
    expect(out).toMatchObject({
      status: 'SUCCEEDED',
      output: { result: { result: 'CONTINUE', reason: 'no bootstrap command for group web' } },
    });
  });

  it('answers an action whose event EventBridge delivered twice once: the second execution stands aside', async () => {
    const event = lifecycleEvent('launch', 'web', 'i-0twice');
    const [a, b] = await Promise.all([execute(event), execute(event)]);
    const outputs = [a, b].map(
      (x) => x.output as { result?: unknown; action: { kind: string; outcome?: { reason: string } } },
    );

    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(outputs.map((o) => o.action.kind).sort()).toEqual(['ignore', 'launch']);
    expect(outputs.find((o) => o.action.kind === 'ignore')).toMatchObject({
      action: { outcome: { reason: 'another execution answers this lifecycle action' } },
    });
    expect(outputs.find((o) => o.action.kind === 'launch')?.result).toEqual({
      result: 'CONTINUE',
      reason: 'no bootstrap command for group web',
    });
  });

  it('continues a termination without decommission when the host is not alive', async () => {
    await configure({ asg: 'db', decommission: 'echo bye' });
    const out = await execute(lifecycleEvent('terminate', 'db', 'i-0gone'));
    expect(out.output?.result).toEqual({
      result: 'CONTINUE',
      reason: 'host not alive: decommission skipped',
    });
  });

  it('fails, saying so, when Auto Scaling refuses the answer', async () => {
    const out = await execute(lifecycleEvent('launch', 'no-such-group', 'i-0nogroup'));
    expect(out).toMatchObject({ status: 'FAILED', error: 'CompleteLifecycleActionFailed' });
  });

  it('abandons a launch whose barrier is not met within the timeout', async () => {
    await configure({ asg: 'db', bootstrap: 'true', requires: { group: 'web', count: 5 }, timeoutSec: 30 });
    await putDroverHooks(asg, 'local', 'db');
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'db', DesiredCapacity: 1 }));
    const log = new EventLog(t.db, t.stack.file.eventsTable!);
    const failed = await eventually(
      async () =>
        (await log.between(Date.now() - 120_000, Date.now() + 60_000)).find(
          (e) => e.type === 'Bootstrap Failed',
        ),
      70_000,
      'Bootstrap Failed',
    );
    expect(failed.detail).toMatchObject({
      result: 'ABANDON',
      reason: 'the required group did not have enough hosts in service within the timeout',
    });
  }, 90_000);

  it('bootstraps once the required group has enough hosts in service', async () => {
    await configure({
      asg: 'db',
      bootstrap: 'echo after web',
      requires: { group: 'web', count: 1 },
      timeoutSec: 120,
    });
    // web has hooks but no bootstrap: its instance goes into service at once.
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'web', DesiredCapacity: 1 }));
    await asg.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'db', DesiredCapacity: 1 }));
    await eventually(
      async () => {
        const groups = await asg.send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['db'] }),
        );
        return groups.AutoScalingGroups?.[0]?.Instances?.some((i) => i.LifecycleState === 'InService')
          ? true
          : undefined;
      },
      70_000,
      'the db instance in service',
    );
  }, 90_000);
});
