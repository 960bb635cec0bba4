/** Step `close batch`: mark silent hosts, apply --max-errors, choose the next batch. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultClients } from '#shared/aws.ts';
import { closeBatch } from './run/close-batch.ts';
import { repliesBacklogOf } from './run/replies-backlog.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();

export const handler = middy(async (event: unknown) => {
  const next = await closeBatch(event, {
    runs: wiring.runs(),
    now: wiring.now,
    repliesBacklog: repliesBacklogOf(defaultClients.sqs, stage().repliesQueueUrl),
    log: logger,
  });
  logger.info('batch closed', { runId: next.runId, more: next.more });
  return next;
}).use(injectLambdaContext(logger));
