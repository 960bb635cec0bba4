/** Scheduled: marks nodes whose heartbeats stopped as lost (functions/membership/reap-nodes.ts). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultClients } from '#shared/aws.ts';
import { DEFAULT_LOST_AFTER_HEARTBEATS } from '#shared/node-status.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { lostAfterHeartbeatsFrom, reapNodes } from './membership/reap-nodes.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();
let membership: NodesStore | undefined;

export const handler = middy(async () =>
  reapNodes({
    membership: (membership ??= new NodesStore(defaultClients.dynamo, stage().nodesTable)),
    events: wiring.events(),
    now: wiring.now,
    lostAfterHeartbeats: lostAfterHeartbeatsFrom(
      process.env.DROVER_LOST_AFTER_HEARTBEATS,
      DEFAULT_LOST_AFTER_HEARTBEATS,
    ),
    log: logger,
  }),
).use(injectLambdaContext(logger));
