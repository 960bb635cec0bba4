/**
 * `.waitForTaskToken` steps of the lifecycle state machine: wait for the instance's agent to join
 * (ingest releases it on the first heartbeat) and for the bootstrap/decommission run to end (the
 * Run Completed rule releases it, functions/lifecycleRunDone.ts), and for each of a
 * decommission's reactions in turn (`reaction`, released the same way).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { LifecycleAction } from './lifecycle/lifecycle-action.ts';
import { awaitJoin, awaitRun } from './lifecycle/lifecycle-steps.ts';
import { lifecycleLogger as logger, stepDeps } from './lifecycle/wiring.ts';
import { awaitReactionRun } from './lifecycle/reaction-wait.ts';

interface WaitEvent {
  step: 'join' | 'run' | 'reaction';
  token: string;
  action: LifecycleAction;
  /** Start the run (first wait) or wait again for it (after a lifecycle heartbeat). */
  start?: boolean;
}

export const handler = middy(async (input: WaitEvent) => {
  if (input.step === 'join') await awaitJoin(input.action, input.token, stepDeps());
  else if (input.step === 'reaction') await awaitReactionRun(input.action, input.token, stepDeps());
  else await awaitRun(input.action, input.token, input.start === true, stepDeps());
}).use(injectLambdaContext(logger));
