/**
 * The lifecycle state machine's wait for one of a decommission's reactions (`AwaitReaction`): the
 * Run Completed rule releases it (functions/lifecycleRunDone.ts), as for the decommission's own
 * run; released at once when the run has ended already.
 */
import { DescribeExecutionCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { LifecycleAction } from './lifecycle-action.ts';
import type { StepDeps } from './lifecycle-steps.ts';
import { runKey } from '#shared/stores/lifecycle-waits.ts';

export async function awaitReactionRun(
  action: LifecycleAction,
  taskToken: string,
  deps: Pick<StepDeps, 'waits' | 'sfn' | 'runStateMachineArn'>,
): Promise<void> {
  const runId = action.reactions?.waitFor;
  if (!runId) throw new Error('the lifecycle action waits for no reaction');
  // Registered before looking: a run that ends in between is seen by one of the two.
  await deps.waits.register(runKey(runId), taskToken, action.deadline);
  const arn = deps.runStateMachineArn.replace(':stateMachine:', ':execution:') + `:${runId}`;
  const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  if (execution.status === 'RUNNING') return;
  const token = await deps.waits.claim(runKey(runId));
  if (token) {
    await deps.sfn.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ runId, done: true }) }),
    );
  }
}
