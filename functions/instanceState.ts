/** EventBridge target: EC2 instances stopped or terminated (functions/membership/instance-state.ts). */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { defaultClients } from '#shared/aws.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { applyInstanceState } from './membership/instance-state.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();
let membership: NodesStore | undefined;

export const handler = middy(async (event: unknown) =>
  applyInstanceState(event, {
    membership: (membership ??= new NodesStore(defaultClients.dynamo, stage().nodesTable)),
    deleteInbox: async (nodeId) => {
      await defaultClients.sqs.send(new DeleteQueueCommand({ QueueUrl: wiring.inboxUrl(nodeId) }));
    },
    events: wiring.events(),
    now: wiring.now,
    log: logger,
  }),
).use(injectLambdaContext(logger));
