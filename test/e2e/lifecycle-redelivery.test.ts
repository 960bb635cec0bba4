/**
 * A lifecycle action whose completion is delivered twice: the `complete` step answers Auto
 * Scaling, then its response is lost (Lambda's `Lambda.ServiceException`), so the state machine's
 * Retry runs the step again. Auto Scaling refuses the second CompleteLifecycleAction; drover
 * takes it as already done: the execution succeeds and the outcome is recorded once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeAutoScalingGroupsCommand, type AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DescribeExecutionCommand, ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { EventLog } from '#shared/event-log.ts';
import type { InvokeFault } from '#local/lambda-runtime.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';

let t: TestStack;
let asg: AutoScalingClient;
/** The `complete` steps run, and which of them lost their response. */
const completes: { instanceId: string; lost: boolean }[] = [];

/** Loses the response of the first `complete` of each action, after the function ran. */
const loseFirstCompletion: InvokeFault = async (name, event, invoke) => {
  const input = event as { step?: string; action?: { instanceId: string } };
  const output = await invoke();
  if (name !== 'lifecycle' || input.step !== 'complete' || !input.action) return output;
  const lost = !completes.some((c) => c.instanceId === input.action!.instanceId);
  completes.push({ instanceId: input.action.instanceId, lost });
  if (lost) {
    const error = new Error('the function ran; its response was lost');
    error.name = 'Lambda.ServiceException';
    throw error;
  }
  return output;
};

beforeAll(async () => {
  t = await startTestStack({ lambdaFault: loseFirstCompletion });
  asg = t.autoscaling;
}, 60_000);
afterAll(async () => {
  await stopCliProcesses();
  await t?.stop();
});

describe('a lifecycle completion delivered twice', () => {
  it('succeeds, with Auto Scaling answered once and the outcome recorded once', async () => {
    const cli = (args: string[]) => droverCli(t.home, args);
    const set = await cli(['lifecycle', 'set', 'web', '--bootstrap', 'echo ready', '--timeout', '60']);
    expect(set.code, set.stderr).toBe(0);
    expect((await cli(['local', 'scale', 'web', '--to', '1'])).code).toBe(0);
    const group = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }));
    const id = group.AutoScalingGroups![0]!.Instances![0]!.InstanceId!;

    const lifecycleArn = t.stack.file.stateMachines.lifecycle!;
    const execution = await eventually(
      async () => {
        const list = await t.sfn.send(new ListExecutionsCommand({ stateMachineArn: lifecycleArn }));
        const ended = list.executions?.find((e) => e.status !== 'RUNNING');
        return ended
          ? t.sfn.send(new DescribeExecutionCommand({ executionArn: ended.executionArn }))
          : undefined;
      },
      90_000,
      'the lifecycle execution to end',
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(JSON.parse(execution.output!).result).toEqual({
      result: 'CONTINUE',
      reason: 'bootstrap succeeded',
    });
    // The step ran twice; the first answer was the one Auto Scaling applied.
    expect(completes).toEqual([
      { instanceId: id, lost: true },
      { instanceId: id, lost: false },
    ]);
    const after = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web'] }));
    expect(after.AutoScalingGroups![0]!.Instances![0]).toMatchObject({
      InstanceId: id,
      LifecycleState: 'InService',
    });

    const log = new EventLog(t.db, t.stack.file.eventsTable!);
    const outcomes = await eventually(async () => {
      const events = (await log.between(Date.now() - 600_000, Date.now() + 60_000)).filter(
        (e) => e.nodeId === id && e.type.startsWith('Bootstrap'),
      );
      return events.some((e) => e.type === 'Bootstrap Succeeded') ? events : undefined;
    });
    // Give a second announcement time to land, if there were one.
    await new Promise((r) => setTimeout(r, 1_000));
    const final = (await log.between(Date.now() - 600_000, Date.now() + 60_000)).filter(
      (e) => e.nodeId === id && e.type.startsWith('Bootstrap'),
    );
    expect(final.map((e) => e.type)).toEqual(['Bootstrap Started', 'Bootstrap Succeeded']);
    expect(outcomes.find((e) => e.type === 'Bootstrap Succeeded')!.detail).toMatchObject({
      result: 'CONTINUE',
      answered: 'completed',
    });
  }, 120_000);
});
