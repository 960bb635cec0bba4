/**
 * Step `dispatch`: sign the batch's request and send it to each target's inbox; in the cancel
 * state machine, sign and send the `cancel`. The only function allowed to sign.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultClients } from '#shared/aws.ts';
import { dispatchInputSchema } from './run/state.ts';
import { dispatchBatch, dispatchCancel } from './run/dispatch-batch.ts';
import { handlerLogger, wiring } from './run/wiring.ts';

const logger = handlerLogger();

export const handler = middy(async (event: unknown) => {
  const ref = dispatchInputSchema.parse(event);
  const send = ref.action === 'cancel' ? dispatchCancel : dispatchBatch;
  const outcome = await send(ref, {
    runs: wiring.runs(),
    ledger: wiring.ledger(),
    sqs: defaultClients.sqs,
    signer: wiring.signer(),
    inboxUrl: wiring.inboxUrl,
    now: wiring.now,
  });
  logger.info(ref.action === 'cancel' ? 'batch told to stop' : 'batch dispatched', {
    runId: ref.runId,
    batch: ref.batch,
    group: ref.group,
    ...outcome,
  });
  return outcome;
}).use(injectLambdaContext(logger));
