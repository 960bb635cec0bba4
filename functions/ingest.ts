/** The replies queue consumer (SQS event source, batch 10, ReportBatchItemFailures). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { SQSEvent } from 'aws-lambda';
import { defaultClients } from '#shared/aws.ts';
import { ingestReplies } from './run/ingest-replies.ts';
import { NodeHeartbeats } from '#shared/stores/nodes-heartbeats.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';
import { releaseJoinWait } from './lifecycle/join-release.ts';

const logger = handlerLogger();

let registry: NodeHeartbeats | undefined;

export const handler = middy(async (event: SQSEvent) =>
  ingestReplies(event.Records, {
    ledger: wiring.ledger(),
    registry: (registry ??= new NodeHeartbeats(defaultClients.plainDynamo, stage().nodesTable)),
    now: wiring.now,
    log: logger,
    verifySender: stage().verifySender,
    senderBindings: stage().senderBindings,
    inboxUrl: wiring.inboxUrl,
    onMembership: async (outcome, hb) => {
      const about = { nodeId: hb.nodeId, identity: hb.identity };
      if (outcome === 'ignored') {
        // Terminated, or stopped after this heartbeat was sent: it stays out of runs.
        logger.info('heartbeat of a node no longer a member ignored', about);
        return;
      }
      logger.info(`node ${outcome}`, about);
      // A launching instance's lifecycle action waits for exactly this first heartbeat.
      if (outcome === 'joined') await releaseJoinWait(hb);
      const asg = typeof hb.facts.asg === 'string' && hb.facts.asg !== '' ? { asg: hb.facts.asg } : {};
      await wiring.events().publish(outcome === 'joined' ? 'Node Joined' : 'Node Returned', {
        at: wiring.now(),
        ...about,
        ...asg,
        ...(outcome === 'joined' ? { facts: hb.facts } : {}),
      });
    },
  }),
).use(injectLambdaContext(logger));
