/**
 * The lifecycle state machine's steps after `prepare`: the barrier check, the lifecycle heartbeat
 * between waits, the wait registrations and the final answer to Auto Scaling.
 */
import {
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { isFresh } from '#shared/freshness.ts';
import type { EventPublisher } from '#shared/drover-events.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import type { LifecycleAction, Outcome } from './lifecycle-action.ts';
import { joinKey, runKey, type LifecycleWaits } from './lifecycle-waits.ts';
import type { NodesStore } from '#shared/stores/nodes-store.ts';

export interface StepDeps {
  autoscaling: AutoScalingClient;
  sfn: SFNClient;
  sqs: SQSClient;
  waits: LifecycleWaits;
  membership: NodesStore;
  nodes: () => Promise<NodeItem[]>;
  node: (nodeId: string) => Promise<NodeItem | undefined>;
  /** A node's inbox URL, derived from its id (`inboxQueueUrl`), never a URL a host reported. */
  inboxUrl: (nodeId: string) => string;
  events: EventPublisher;
  runStateMachineArn: string;
  now: () => number;
  log: {
    info(message: string, extra: Record<string, unknown>): void;
    warn(message: string, extra: Record<string, unknown>): void;
  };
}

/** Whether enough hosts of the required group are in service (active, fresh). */
export async function barrierMet(
  action: LifecycleAction,
  deps: StepDeps,
): Promise<{ met: boolean; inService: number }> {
  if (!action.requires) return { met: true, inService: 0 };
  const now = deps.now();
  const inService = (await deps.nodes()).filter(
    (n) => n.asg === action.requires!.group && isFresh(n, now),
  ).length;
  return { met: inService >= action.requires.count, inService };
}

/** Keeps Auto Scaling waiting (the hook's heartbeat timeout restarts); says whether time is left. */
export async function recordHeartbeat(
  action: LifecycleAction,
  deps: StepDeps,
): Promise<{ expired: boolean }> {
  if (deps.now() >= action.deadline) return { expired: true };
  await deps.autoscaling.send(
    new RecordLifecycleActionHeartbeatCommand({
      AutoScalingGroupName: action.asg,
      LifecycleHookName: action.hookName,
      LifecycleActionToken: action.token,
    }),
  );
  return { expired: false };
}

/** Registers the wait for the instance's first heartbeat; releases it at once if it already joined. */
export async function awaitJoin(action: LifecycleAction, taskToken: string, deps: StepDeps): Promise<void> {
  const key = joinKey(action.asg, action.instanceId);
  await deps.waits.register(key, taskToken, action.deadline);
  const node = await deps.node(action.instanceId);
  if (node && isFresh(node, deps.now())) await release(deps, await deps.waits.claim(key), { joined: true });
}

/**
 * Starts the command as a normal run on exactly this host (`start`), or re-registers the wait for
 * the run already started; releases at once if the run has ended.
 */
export async function awaitRun(
  action: LifecycleAction,
  taskToken: string,
  start: boolean,
  deps: StepDeps,
): Promise<void> {
  const id = action.runId;
  if (!id || !action.command) throw new Error('the lifecycle action has no run to wait for');
  await deps.waits.register(runKey(id), taskToken, action.deadline);
  if (start) {
    const remainingSec = Math.max(30, Math.floor((action.deadline - deps.now()) / 1000) - 30);
    await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.runStateMachineArn,
        name: id,
        input: JSON.stringify({
          runId: id,
          command: { shell: action.command },
          options: {
            nodes: [action.instanceId],
            timeoutSec: Math.min(remainingSec, 86_400),
            discoveryTimeoutSec: 30,
          },
          caller: `lifecycle:${action.hookName}`,
        }),
      }),
    );
    deps.log.info('lifecycle run started', { runId: id, instanceId: action.instanceId });
    return;
  }
  const arn = deps.runStateMachineArn.replace(':stateMachine:', ':execution:') + `:${id}`;
  const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  if (execution.status !== 'RUNNING') {
    await release(deps, await deps.waits.claim(runKey(id)), {
      runId: id,
      status: execution.status,
      done: true,
    });
  }
}

async function release(
  deps: StepDeps,
  token: string | undefined,
  output: Record<string, unknown>,
): Promise<void> {
  if (token)
    await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
}

/** The outcome of a finished lifecycle run: CONTINUE only if the command succeeded on the host. */
export function runOutcome(
  kind: LifecycleAction['kind'],
  run: {
    runId: string;
    status?: string;
    summary?: { succeeded?: number; expected?: number; exitCodes?: Record<string, number> };
  },
): Outcome {
  const ok = run.summary?.succeeded === 1 && run.summary.expected === 1;
  const what = kind === 'launch' ? 'bootstrap' : 'decommission';
  const codes = Object.keys(run.summary?.exitCodes ?? {}).join(',');
  return ok
    ? { result: 'CONTINUE', reason: `${what} succeeded`, runId: run.runId }
    : {
        // A terminating instance goes whatever its decommission did; a launch that failed must not serve.
        result: kind === 'launch' ? 'ABANDON' : 'CONTINUE',
        reason: `${what} ${run.status === 'succeeded' || codes ? `failed${codes ? ` (exit ${codes})` : ''}` : `did not finish (${run.status ?? 'unknown'})`}`,
        runId: run.runId,
      };
}

/** Answers Auto Scaling, announces the outcome, and for a terminating host tidies its traces. */
export async function completeAction(action: LifecycleAction, deps: StepDeps): Promise<Outcome> {
  const outcome = action.outcome ?? {
    result: action.kind === 'launch' ? 'ABANDON' : 'CONTINUE',
    reason: 'no outcome recorded',
  };
  if (action.kind === 'ignore') return outcome;
  try {
    await deps.autoscaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: action.asg,
        LifecycleHookName: action.hookName,
        LifecycleActionToken: action.token,
        LifecycleActionResult: outcome.result,
      }),
    );
  } catch (error: unknown) {
    // The action ended already (its timeout passed, or an operator completed it): record and go on.
    if (!(error instanceof Error && /No active Lifecycle Action/i.test(error.message))) throw error;
    deps.log.warn('lifecycle action already ended', { instanceId: action.instanceId, error: error.message });
  }
  const about = {
    at: deps.now(),
    nodeId: action.instanceId,
    asg: action.asg,
    result: outcome.result,
    reason: outcome.reason,
    ...(outcome.runId ? { runId: outcome.runId } : {}),
  };
  if (action.kind === 'launch') {
    if (action.command)
      await deps.events.publish(
        outcome.result === 'CONTINUE' ? 'Bootstrap Succeeded' : 'Bootstrap Failed',
        about,
      );
    return outcome;
  }
  if (action.command && outcome.runId) await deps.events.publish('Decommission Finished', about);
  await retire(action, deps);
  return outcome;
}

/** A terminating host: its inbox deleted (inboxes no longer pile up) and its node marked terminated. */
async function retire(action: LifecycleAction, deps: StepDeps): Promise<void> {
  // Deleted whether or not the node ever heartbeat: an agent that created its inbox and died
  // before its first heartbeat would otherwise leave the queue behind.
  await deps.sqs
    .send(new DeleteQueueCommand({ QueueUrl: deps.inboxUrl(action.instanceId) }))
    .catch((error: unknown) => {
      deps.log.warn('inbox not deleted', { instanceId: action.instanceId, error });
    });
  const before = await deps.membership.markInstanceState(action.instanceId, 'terminated', deps.now());
  if (before) {
    await deps.events.publish('Node Terminated', {
      at: deps.now(),
      nodeId: before.nodeId,
      identity: before.identity,
      asg: action.asg,
      reason: 'terminated by its Auto Scaling group',
    });
  }
}
