/** Step `close batch`: mark silent hosts, apply --max-errors, choose the next batch. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { closeBatch } from './run/close-batch.ts';
import { handlerLogger, wiring } from './run/wiring.ts';

const logger = handlerLogger();

export const handler = middy(async (event: unknown) => {
  const next = await closeBatch(event, { runs: wiring.runs(), now: wiring.now });
  logger.info('batch closed', { runId: next.runId, more: next.more });
  return next;
}).use(injectLambdaContext(logger));
