/**
 * Steps `await acks` and `await results` (`.waitForTaskToken`): store the task token where ingest
 * finds it, and release it at once if the replies are already in.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { awaitInputSchema } from './run/state.ts';
import { handlerLogger, wiring } from './run/wiring.ts';

const logger = handlerLogger();

export const handler = middy(async (event: unknown) => {
  const input = awaitInputSchema.parse(event);
  await wiring.ledger().registerWait(input.runId, input.batch, input.phase, input.token);
  return { registered: input.phase };
}).use(injectLambdaContext(logger));
