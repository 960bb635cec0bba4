/**
 * A lifecycle action as the lifecycle state machine carries it, and `prepare`, its first step:
 * from Auto Scaling's event to what to do (wait for the agent and bootstrap, decommission, or
 * answer at once), with the reason when the answer is immediate.
 */
import { z } from 'zod';
import type { LifecycleConfigStore } from '#shared/stores/lifecycle-config.ts';
import { isFresh } from '#shared/freshness.ts';
import type { EventPublisher } from '#shared/drover-events.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { newRunId } from '#shared/ids.ts';
import type { ActionClaim, Outcome } from '#shared/stores/lifecycle-answers.ts';
import type { DecommissionReactions } from '../reactions/decommission.ts';

export const lifecycleEventSchema = z.object({
  'detail-type': z.enum(['EC2 Instance-launch Lifecycle Action', 'EC2 Instance-terminate Lifecycle Action']),
  detail: z.object({
    LifecycleActionToken: z.string().min(1),
    AutoScalingGroupName: z.string().min(1),
    LifecycleHookName: z.string().min(1),
    EC2InstanceId: z.string().min(1),
    LifecycleTransition: z.string(),
  }),
});

// What drover answered an action is kept with the answers (shared/stores/lifecycle-answers.ts).
export type { Outcome };

export interface LifecycleAction {
  kind: 'launch' | 'terminate' | 'ignore';
  asg: string;
  instanceId: string;
  hookName: string;
  token: string;
  command?: string;
  /** The id of the run of `command` (its execution's name), fixed before it starts. */
  runId?: string;
  requires?: { group: string; count: number };
  /** When the whole action must be answered (ms); later, drover abandons (launch) or continues. */
  deadline: number;
  /** Seconds each wait lasts before a lifecycle heartbeat is recorded (under the hook's 300 s). */
  sliceSec: number;
  /** Set once the answer is known: what CompleteLifecycleAction says, and why. */
  outcome?: Outcome;
  /** A decommission's reactions, run before it (set by the state machine's StartReactions). */
  reactions?: DecommissionReactions;
}

export class InvalidLifecycleEvent extends Error {
  override name = 'InvalidLifecycleEvent';
}

export const WAIT_SLICE_SEC = 120;

export interface PrepareDeps {
  stage: string;
  configs: LifecycleConfigStore;
  node: (nodeId: string) => Promise<NodeItem | undefined>;
  events: EventPublisher;
  now: () => number;
  /** Seconds a wait lasts before a lifecycle heartbeat (default {@link WAIT_SLICE_SEC}). */
  sliceSec?: number;
  /**
   * Claims the action for `execution` (the lifecycle execution's id) with the run id its command
   * would get; `mine: false` when another execution of the same action (a duplicate delivery of
   * its event) claimed it first, the earlier claim when this execution claimed it before.
   */
  claim: (asg: string, token: string, execution: string, runId: string) => Promise<ActionClaim>;
  /** Records that the claimed action's start was announced. */
  claimAnnounced: (asg: string, token: string) => Promise<void>;
}

/** An action answered at once, CONTINUE, for `reason`. */
function answeredNow(
  base: Omit<LifecycleAction, 'kind' | 'deadline'>,
  kind: LifecycleAction['kind'],
  deadline: number,
  reason: string,
): LifecycleAction {
  return { ...base, kind, deadline, outcome: { result: 'CONTINUE', reason } };
}

export async function prepareAction(
  event: unknown,
  deps: PrepareDeps,
  execution = 'unknown',
): Promise<LifecycleAction> {
  const parsed = lifecycleEventSchema.safeParse(event);
  if (!parsed.success)
    throw new InvalidLifecycleEvent(`not a lifecycle action event: ${parsed.error.message}`);
  const d = parsed.data.detail;
  const now = deps.now();
  const launch = parsed.data['detail-type'].includes('launch');
  const base = {
    asg: d.AutoScalingGroupName,
    instanceId: d.EC2InstanceId,
    hookName: d.LifecycleHookName,
    token: d.LifecycleActionToken,
    sliceSec: WAIT_SLICE_SEC,
  };
  if (d.LifecycleHookName !== `drover-${deps.stage}-${launch ? 'launch' : 'terminate'}`) {
    // Another stage's hook (the rule matches drover-*): that stage answers it, not this one.
    return answeredNow(base, 'ignore', now, `hook ${d.LifecycleHookName} is not this stage's`);
  }
  const claim = await deps.claim(d.AutoScalingGroupName, d.LifecycleActionToken, execution, newRunId(now));
  if (!claim.mine) {
    // EventBridge delivered the event twice: the execution that claimed the action answers it.
    return answeredNow(base, 'ignore', now, 'another execution answers this lifecycle action');
  }
  const config = await deps.configs.get(d.AutoScalingGroupName);
  const timeoutSec = config?.timeoutSec ?? 900;
  // From the first claim: a retried Prepare does not move the deadline.
  const deadline = claim.at + timeoutSec * 1000;
  // A wait never outlasts the action: a 30 s action waits 30 s, not a whole slice.
  base.sliceSec = Math.min(deps.sliceSec ?? WAIT_SLICE_SEC, timeoutSec);
  const kind = launch ? 'launch' : 'terminate';
  const command = launch ? config?.bootstrap : config?.decommission;
  if (!command) {
    const what = launch ? 'bootstrap' : 'decommission';
    return answeredNow(base, kind, deadline, `no ${what} command for group ${d.AutoScalingGroupName}`);
  }
  if (!launch) {
    const node = await deps.node(d.EC2InstanceId);
    if (!node || !isFresh(node, now))
      return answeredNow(base, kind, deadline, 'host not alive: decommission skipped');
  }
  // The run id fixed at the first claim: a retried Prepare announces and starts the same run.
  const runId = claim.runId;
  if (!claim.announced) {
    await deps.events.publish(launch ? 'Bootstrap Started' : 'Decommission Started', {
      at: claim.at,
      nodeId: d.EC2InstanceId,
      asg: d.AutoScalingGroupName,
      runId,
    });
    await deps.claimAnnounced(d.AutoScalingGroupName, d.LifecycleActionToken);
  }
  return {
    ...base,
    kind,
    deadline,
    command,
    runId,
    ...(launch && config?.requires ? { requires: config.requires } : {}),
  };
}
