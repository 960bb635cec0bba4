/** The `cancel` state machine's steps `mark` and `settle` (see run/cancel-run.ts). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { cancelStep } from './run/cancel-run.ts';
import { handlerLogger, wiring } from './run/wiring.ts';

const logger = handlerLogger();

export const handler = middy(async (event: unknown) => {
  const outcome = await cancelStep(event, { runs: wiring.runs(), ledger: wiring.ledger() });
  logger.info('cancel step', { ...outcome });
  return outcome;
}).use(injectLambdaContext(logger));
