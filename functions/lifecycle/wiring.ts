/** The lifecycle steps' dependencies, built once per container from the stage's environment. */
import { defaultClients } from '#shared/aws.ts';
import { createAutoScalingClient } from '#shared/autoscaling.ts';
import { DynamoLifecycleConfigStore } from '#shared/lifecycle-config.ts';
import { ConfigError } from '#shared/stage-config.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { LifecycleWaits } from './lifecycle-waits.ts';
import type { StepDeps } from './lifecycle-steps.ts';
import type { PrepareDeps } from './lifecycle-action.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { handlerLogger, stage, wiring } from '../run/wiring.ts';

export const lifecycleLogger = handlerLogger();

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new ConfigError(`environment variable ${name} is not set`);
  return value;
}

const node = (nodeId: string): Promise<NodeItem | undefined> =>
  new NodesStore(defaultClients.dynamo, stage().nodesTable).get(nodeId);

let steps: StepDeps | undefined;
let waits: LifecycleWaits | undefined;

export const lifecycleWaits = (): LifecycleWaits =>
  (waits ??= new LifecycleWaits(defaultClients.dynamo, env('DROVER_LIFECYCLE_TABLE')));

export function stepDeps(): StepDeps {
  return (steps ??= {
    autoscaling: createAutoScalingClient({}),
    sfn: defaultClients.sfn,
    sqs: defaultClients.sqs,
    waits: lifecycleWaits(),
    membership: new NodesStore(defaultClients.dynamo, stage().nodesTable),
    nodes: () => wiring.nodes().all(),
    node,
    inboxUrl: wiring.inboxUrl,
    events: wiring.events(),
    runStateMachineArn: env('DROVER_RUN_STATE_MACHINE'),
    now: wiring.now,
    log: lifecycleLogger,
  });
}

export function prepareDeps(): PrepareDeps {
  return {
    stage: stage().stage,
    configs: new DynamoLifecycleConfigStore(defaultClients.dynamo, env('DROVER_LIFECYCLE_TABLE')),
    node,
    events: wiring.events(),
    now: wiring.now,
    sliceSec: sliceSecFrom(process.env.DROVER_LIFECYCLE_SLICE_SEC),
  };
}

/**
 * `DROVER_LIFECYCLE_SLICE_SEC`: how long a wait lasts before a lifecycle heartbeat, 1 to 240 s
 * (under the hooks' 300 s heartbeat timeout); unset, 120 s.
 */
function sliceSecFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 240) {
    throw new ConfigError(`DROVER_LIFECYCLE_SLICE_SEC must be a whole number from 1 to 240, got "${value}"`);
  }
  return n;
}
