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
import type { SQSClient } from '@aws-sdk/client-sqs';
import { isFresh } from '#shared/freshness.ts';
import type { EventPublisher } from '#shared/drover-events.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import type { LifecycleAction, Outcome } from './lifecycle-action.ts';
import { joinKey, runKey, type LifecycleWaits } from '#shared/stores/lifecycle-waits.ts';
import type { LifecycleAnswers } from '#shared/stores/lifecycle-answers.ts';
import { deleteInbox, isNoActiveAction } from './already-done.ts';
import type { NodesStore } from '#shared/stores/nodes-store.ts';

export interface StepDeps {
  autoscaling: AutoScalingClient;
  sfn: SFNClient;
  sqs: SQSClient;
  waits: LifecycleWaits;
  /** What drover answered each action (a repeated `complete` answers and announces once). */
  answers: LifecycleAnswers;
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

/**
 * Keeps Auto Scaling waiting (the hook's heartbeat timeout restarts); says whether time is left.
 * An action Auto Scaling no longer holds (its timeout passed, someone answered it) has no time
 * left either: waiting on would only end in a completion it refuses.
 */
export async function recordHeartbeat(
  action: LifecycleAction,
  deps: StepDeps,
): Promise<{ expired: boolean }> {
  if (deps.now() >= action.deadline) return { expired: true };
  try {
    await deps.autoscaling.send(
      new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: action.asg,
        LifecycleHookName: action.hookName,
        LifecycleActionToken: action.token,
      }),
    );
  } catch (error: unknown) {
    if (!isNoActiveAction(error)) throw error;
    deps.log.warn('lifecycle action no longer active: waiting stops', {
      instanceId: action.instanceId,
      error: error.message,
    });
    return { expired: true };
  }
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

/**
 * Answers Auto Scaling, announces the outcome, and for a terminating host tidies its traces.
 * Idempotent: the answer is recorded under the action's token first, so a repeated step (a
 * retry after an answer that applied, a redelivery) neither answers nor announces twice, and
 * returns the outcome recorded the first time.
 */
export async function completeAction(action: LifecycleAction, deps: StepDeps): Promise<Outcome> {
  const decided = action.outcome ?? {
    result: action.kind === 'launch' ? 'ABANDON' : 'CONTINUE',
    reason: 'no outcome recorded',
  };
  if (action.kind === 'ignore') return decided;
  const at = deps.now();
  const recorded = await deps.answers.record(action.asg, action.token, decided, at);
  let outcome = recorded.first ? decided : recorded.earlier.outcome;
  if (!recorded.first) {
    deps.log.info('lifecycle action answered before: step repeated', {
      instanceId: action.instanceId,
      ...outcome,
    });
  }
  if (!outcome.answered) outcome = { ...outcome, answered: await answer(action, outcome, deps) };
  if (recorded.first || !recorded.earlier.announced) {
    await announce(action, outcome, recorded.first ? at : recorded.earlier.at, deps);
    await deps.answers.settle(action.asg, action.token, outcome.answered!);
  }
  if (action.kind === 'terminate') await retire(action, deps);
  return outcome;
}

/** CompleteLifecycleAction; `not-active` when Auto Scaling holds the action no more. */
async function answer(
  action: LifecycleAction,
  outcome: Outcome,
  deps: StepDeps,
): Promise<NonNullable<Outcome['answered']>> {
  try {
    await deps.autoscaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: action.asg,
        LifecycleHookName: action.hookName,
        LifecycleActionToken: action.token,
        LifecycleActionResult: outcome.result,
      }),
    );
    return 'completed';
  } catch (error: unknown) {
    // Its timeout passed, an operator answered it, or drover did and lost the record of it.
    if (!isNoActiveAction(error)) throw error;
    deps.log.warn('lifecycle action already ended', { instanceId: action.instanceId, error: error.message });
    return 'not-active';
  }
}

/** The outcome's event: Bootstrap Succeeded/Failed, Decommission Finished (when a command ran). */
async function announce(
  action: LifecycleAction,
  outcome: Outcome,
  at: number,
  deps: StepDeps,
): Promise<void> {
  if (!action.command) return;
  if (action.kind === 'terminate' && !outcome.runId) return;
  const type =
    action.kind === 'terminate'
      ? 'Decommission Finished'
      : outcome.result === 'CONTINUE'
        ? 'Bootstrap Succeeded'
        : 'Bootstrap Failed';
  await deps.events.publish(type, {
    at,
    nodeId: action.instanceId,
    asg: action.asg,
    result: outcome.result,
    reason: outcome.reason,
    ...(outcome.answered ? { answered: outcome.answered } : {}),
    ...(outcome.runId ? { runId: outcome.runId } : {}),
    // The reactions that ran before a decommission, each with its status (`running` if it outlasted the wait).
    ...(action.kind === 'terminate' && action.reactions?.runs.length
      ? { reactions: action.reactions.runs, reactionsState: action.reactions.state }
      : {}),
  });
}

/** A terminating host: its inbox deleted (inboxes no longer pile up) and its node marked terminated. */
async function retire(action: LifecycleAction, deps: StepDeps): Promise<void> {
  // Deleted whether or not the node ever heartbeat: an agent that created its inbox and died
  // before its first heartbeat would otherwise leave the queue behind. Best effort: a failure
  // leaves one queue behind, never the action unanswered or the node unmarked.
  try {
    const done = await deleteInbox(deps.sqs, deps.inboxUrl(action.instanceId));
    if (done === 'gone') deps.log.info('inbox already deleted', { instanceId: action.instanceId });
  } catch (error: unknown) {
    deps.log.warn('inbox not deleted', { instanceId: action.instanceId, error });
  }
  // Conditional: a repeated step (or the instance's state-change event first) marks nothing twice.
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
