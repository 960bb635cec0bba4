/** The `cancel` state machine's step: stop a running run (see run/cancel-run.ts). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultClients } from '#shared/aws.ts';
import { cancelRun } from './run/cancel-run.ts';
import { logger, wiring } from './run/wiring.ts';

export const handler = middy(async (event: unknown) => {
  const outcome = await cancelRun(event, {
    runs: wiring.runs(),
    ledger: wiring.ledger(),
    sqs: defaultClients.sqs,
    signer: wiring.signer(),
    now: wiring.now,
  });
  logger.info('run cancelled', { ...outcome });
  return outcome;
}).use(injectLambdaContext(logger));
