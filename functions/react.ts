/**
 * EventBridge target of the rule on the stage bus's Node Joined, Node Lost and Node Terminated
 * events: starts the fleet file's reactions they set off (functions/reactions/react.ts). An error
 * throws, and EventBridge retries the event; a retry starts nothing twice (debounce by name).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { defaultClients } from '#shared/aws.ts';
import { busEventSchema } from '#shared/drover-events.ts';
import { GROUP_FACT } from '#shared/fleet-file/group-name.ts';
import { REACTION_WINDOW_SEC, ReactionStore } from '#shared/reactions.ts';
import { ConfigError } from '#shared/stage-config.ts';
import { react, type ReactDeps } from './reactions/react.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();
let deps: ReactDeps | undefined;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

function reactDeps(): ReactDeps {
  const store = new ReactionStore(defaultClients.dynamo, env('DROVER_LIFECYCLE_TABLE'));
  const nodes = new NodesStore(defaultClients.dynamo, stage().nodesTable);
  return (deps ??= {
    reactions: () => store.list(),
    groupOf: async (nodeId) => {
      const group = (await nodes.factsOf(nodeId))?.[GROUP_FACT];
      return typeof group === 'string' ? group : undefined;
    },
    sfn: defaultClients.sfn,
    runStateMachineArn: env('DROVER_RUN_STATE_MACHINE'),
    events: wiring.events(),
    windowSec: REACTION_WINDOW_SEC,
    log: logger,
  });
}

export const handler = middy(async (event: unknown) => {
  const outcome = await react(busEventSchema.parse(event), reactDeps());
  if (outcome.started.length + outcome.debounced.length > 0) logger.info('reactions', { ...outcome });
}).use(injectLambdaContext(logger));
