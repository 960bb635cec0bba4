/** EventBridge target: EC2 instances stopped or terminated (functions/membership/instance-state.ts). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultClients } from '#shared/aws.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { applyInstanceState } from './membership/instance-state.ts';
import { deleteInbox } from './lifecycle/already-done.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();
let membership: NodesStore | undefined;

export const handler = middy(async (event: unknown) =>
  applyInstanceState(event, {
    membership: (membership ??= new NodesStore(defaultClients.dynamo, stage().nodesTable)),
    deleteInbox: async (nodeId) => {
      // Gone already (the lifecycle flow deleted it first): done, not a failure.
      if ((await deleteInbox(defaultClients.sqs, wiring.inboxUrl(nodeId))) === 'gone')
        logger.info('inbox already deleted', { nodeId });
    },
    events: wiring.events(),
    now: wiring.now,
    log: logger,
  }),
).use(injectLambdaContext(logger));
