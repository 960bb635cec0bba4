/** The lifecycle steps' dependencies, built once per container from the stage's environment. */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { ReactionWindows } from '#shared/stores/reaction-windows.ts';
import { ReactionStore } from '#shared/stores/reactions.ts';
import { DECOMMISSION_REACTIONS_SEC, type DecommissionReactionDeps } from '../reactions/decommission.ts';
import { defaultClients } from '#shared/aws.ts';
import { createAutoScalingClient } from '#shared/autoscaling.ts';
import { DynamoLifecycleConfigStore } from '#shared/stores/lifecycle-config.ts';
import { ConfigError } from '#shared/stage-config.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { LifecycleWaits } from '#shared/stores/lifecycle-waits.ts';
import { LifecycleAnswers } from '#shared/stores/lifecycle-answers.ts';
import { recordHeartbeat, type StepDeps } from './lifecycle-steps.ts';
import type { LifecycleAction, PrepareDeps } from './lifecycle-action.ts';
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

let lifecycleAnswers: LifecycleAnswers | undefined;
const answers = (): LifecycleAnswers =>
  (lifecycleAnswers ??= new LifecycleAnswers(defaultClients.dynamo, env('DROVER_LIFECYCLE_TABLE')));

export function stepDeps(): StepDeps {
  return (steps ??= {
    autoscaling: createAutoScalingClient({}),
    sfn: defaultClients.sfn,
    sqs: defaultClients.sqs,
    waits: lifecycleWaits(),
    answers: answers(),
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
    claim: (asg, token, execution, runId) => answers().claim(asg, token, execution, runId, wiring.now()),
    claimAnnounced: (asg, token) => answers().claimAnnounced(asg, token),
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

/** `DROVER_DECOMMISSION_REACTIONS_SEC`: the bound of a decommission's wait for its reactions, 1 to 240 s. */
function reactionsSecFrom(value: string | undefined): number {
  if (value === undefined || value === '') return DECOMMISSION_REACTIONS_SEC;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 240) {
    throw new ConfigError(
      `DROVER_DECOMMISSION_REACTIONS_SEC must be a whole number from 1 to 240, got "${value}"`,
    );
  }
  return n;
}

let reactionDeps: DecommissionReactionDeps | undefined;

/** The decommission's reactions (functions/reactions/decommission.ts). */
export function decommissionReactionDeps(): DecommissionReactionDeps {
  const table = env('DROVER_LIFECYCLE_TABLE');
  const store = new ReactionStore(defaultClients.dynamo, table);
  const steps = stepDeps();
  return (reactionDeps ??= {
    reactions: () => store.list(),
    node,
    windows: new ReactionWindows(defaultClients.dynamo, table),
    runStatus: async (runId) => {
      const arn = steps.runStateMachineArn.replace(':stateMachine:', ':execution:') + `:${runId}`;
      const execution = await defaultClients.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      if (execution.status === 'RUNNING') return 'running';
      return (await wiring.runs().getMeta(runId))?.status ?? execution.status?.toLowerCase() ?? 'unknown';
    },
    heartbeat: (host) => recordHeartbeat(host as LifecycleAction, steps),
    sfn: defaultClients.sfn,
    runStateMachineArn: steps.runStateMachineArn,
    events: wiring.events(),
    waitSec: reactionsSecFrom(process.env.DROVER_DECOMMISSION_REACTIONS_SEC),
    now: wiring.now,
    log: lifecycleLogger,
  });
}
