/** Step `dispatch`: sign the batch's request and send it to each target's inbox. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultClients } from '#shared/aws.ts';
import { batchRefSchema } from './run/state.ts';
import { dispatchBatch } from './run/dispatch-batch.ts';
import { logger, wiring } from './run/wiring.ts';

export const handler = middy(async (event: unknown) => {
  const ref = batchRefSchema.parse(event);
  const outcome = await dispatchBatch(ref, {
    runs: wiring.runs(),
    ledger: wiring.ledger(),
    sqs: defaultClients.sqs,
    signer: wiring.signer(),
    now: wiring.now,
  });
  logger.info('batch dispatched', { runId: ref.runId, batch: ref.batch, ...outcome });
  return outcome;
}).use(injectLambdaContext(logger));
