/** The replies queue consumer (SQS event source, batch 10, ReportBatchItemFailures). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSEvent } from 'aws-lambda';
import { defaultClients } from '#shared/aws.ts';
import { ingestReplies } from './run/ingest-replies.ts';
import { NodeRegistry } from './run/node-registry.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();

let registry: NodeRegistry | undefined;

export const handler = middy(async (event: SQSEvent) =>
  ingestReplies(event.Records, {
    ledger: wiring.ledger(),
    registry: (registry ??= new NodeRegistry(defaultClients.dynamo, stage().nodesTable)),
    now: wiring.now,
    log: logger,
    verifySender: stage().verifySender,
    senderBindings: stage().senderBindings,
    inboxUrl: wiring.inboxUrl,
    onNodeJoined: async (hb) => {
      logger.info('node joined', { nodeId: hb.nodeId, identity: hb.identity });
      await wiring
        .events()
        .publish('Node Joined', { nodeId: hb.nodeId, identity: hb.identity, facts: hb.facts });
    },
  }),
).use(injectLambdaContext(logger));
