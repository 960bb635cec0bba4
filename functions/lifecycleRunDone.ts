/**
 * Target of the rule on `Run Completed`: if a lifecycle action waits for that run, release it.
 * Runs nobody waits for (most) are a no-op read.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { defaultClients } from '#shared/aws.ts';
import { runKey } from '#shared/stores/lifecycle-waits.ts';
import { lifecycleLogger as logger, lifecycleWaits } from './lifecycle/wiring.ts';

const runCompleted = z.object({
  detail: z.object({ runId: z.string().min(1), status: z.string().optional() }),
});

export const handler = middy(async (event: unknown) => {
  const { runId, status } = runCompleted.parse(event).detail;
  const token = await lifecycleWaits().claim(runKey(runId));
  if (!token) return;
  logger.info('lifecycle run ended', { runId, status });
  try {
    await defaultClients.sfn.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ runId, status, done: true }) }),
    );
  } catch (error: unknown) {
    // The wait gave up first (a decommission's reaction that outlasted its bound): nobody to tell.
    if (!(error instanceof TaskTimedOut)) throw error;
    logger.info('lifecycle wait ended before the run', { runId });
  }
}).use(injectLambdaContext(logger));
