/**
 * The `react` function, two entry points:
 * - EventBridge target of the rule on the stage bus's Node Joined, Node Lost and Node Terminated
 *   events: adds the change to the debounce window of each reaction it sets off and starts the
 *   window's timer (functions/reactions/react.ts). An error throws, and EventBridge retries the
 *   event; a retry adds nothing twice and starts no second timer.
 * - The reaction state machine's `Fire` step (`{ step: 'fire', window }`) when a window closes:
 *   starts the window's one run (functions/reactions/fire.ts).
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { defaultClients } from '#shared/aws.ts';
import { busEventSchema } from '#shared/drover-events.ts';
import { GROUP_FACT } from '#shared/fleet-file/group-name.ts';
import { ReactionWindows } from '#shared/stores/reaction-windows.ts';
import { REACTION_WINDOW_SEC, ReactionStore } from '#shared/stores/reactions.ts';
import { ConfigError } from '#shared/stage-config.ts';
import { react, type ReactDeps, type ReactionWindow } from './reactions/react.ts';
import { fireWindow, type FireDeps } from './reactions/fire.ts';
import { handlerLogger, stage, wiring } from './run/wiring.ts';

const logger = handlerLogger();
let deps: (ReactDeps & FireDeps) | undefined;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

/** `DROVER_REACTION_WINDOW_SEC`: seconds of a debounce window, 1 to 3600; unset, 30. */
export function windowSecFrom(value: string | undefined): number {
  if (value === undefined || value === '') return REACTION_WINDOW_SEC;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 3600) {
    throw new ConfigError(`DROVER_REACTION_WINDOW_SEC must be a whole number from 1 to 3600, got "${value}"`);
  }
  return n;
}

function reactDeps(): ReactDeps & FireDeps {
  const table = env('DROVER_LIFECYCLE_TABLE');
  const store = new ReactionStore(defaultClients.dynamo, table);
  const nodes = new NodesStore(defaultClients.dynamo, stage().nodesTable);
  return (deps ??= {
    reactions: () => store.list(),
    groupOf: async (nodeId) => {
      const group = (await nodes.factsOf(nodeId))?.[GROUP_FACT];
      return typeof group === 'string' ? group : undefined;
    },
    windows: new ReactionWindows(defaultClients.dynamo, table),
    sfn: defaultClients.sfn,
    runStateMachineArn: env('DROVER_RUN_STATE_MACHINE'),
    reactionStateMachineArn: env('DROVER_REACTION_STATE_MACHINE'),
    events: wiring.events(),
    windowSec: windowSecFrom(process.env.DROVER_REACTION_WINDOW_SEC),
    now: wiring.now,
    log: logger,
  });
}

interface FireEvent {
  step: 'fire';
  window: ReactionWindow;
}

const isFire = (event: unknown): event is FireEvent =>
  typeof event === 'object' && event !== null && (event as { step?: unknown }).step === 'fire';

export const handler = middy(async (event: unknown) => {
  if (isFire(event)) return fireWindow(event.window, reactDeps());
  const outcome = await react(busEventSchema.parse(event), reactDeps());
  if (outcome.pending.length + outcome.duplicate.length + outcome.ranBefore.length > 0)
    logger.info('reactions', { ...outcome });
  return undefined;
}).use(injectLambdaContext(logger));
