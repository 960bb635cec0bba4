/**
 * A decommission's reactions (the lifecycle state machine's terminate path): before the leaving
 * host's own decommission command, the `terminated` reactions of every group reacting to its group
 * start at once (tell everyone before taking the service away), and the state machine waits for
 * them, bounded: at most `DROVER_DECOMMISSION_REACTIONS_SEC` (default 120 s, never more than a
 * lifecycle wait slice nor past the action's deadline). A reaction that fails or is still running
 * then is recorded (the Decommission Finished event lists each run and its status) and the
 * decommission goes on. The reactions that ran are noted for the host, so its later Node
 * Terminated event does not run them again (react.ts).
 */
import { createHash } from 'node:crypto';
import type { NodeItem } from '#shared/runs-table.ts';
import type { ReactionWindows } from '#shared/stores/reaction-windows.ts';
import { GROUP_FACT } from '#shared/fleet-file/group-name.ts';
import {
  matchingReactions,
  reactionKey,
  type GroupReactions,
  type StoredReaction,
} from '#shared/stores/reactions.ts';
import { startReactionRun, type ReactionRunDeps } from './start-run.ts';

/** Default bound of the wait for a decommission's reactions (seconds). */
export const DECOMMISSION_REACTIONS_SEC = 120;

/** What of the lifecycle action these steps read (functions/lifecycle/lifecycle-action.ts). */
export interface LeavingHost {
  asg: string;
  instanceId: string;
  token: string;
  deadline: number;
  sliceSec: number;
  reactions?: DecommissionReactions;
}

/** The reactions' state, carried by the state machine in the action (`$.action.reactions`). */
export interface DecommissionReactions {
  runIds: string[];
  /** When the wait ends whatever the runs do (ms). */
  deadline: number;
  /** `waiting` for `waitFor` (at most `waitSec`), or over: all `done`, or `timedOut`. */
  state: 'waiting' | 'done' | 'timedOut';
  /** The run to wait for; '' when over (always present: the state machine selects it). */
  waitFor: string;
  /** Seconds to wait at most (at least 1, the Task's timeout). */
  waitSec: number;
  /** Each run's status when last looked at (`running`, or the run's final status). */
  runs: { runId: string; status: string }[];
}

export interface DecommissionReactionDeps extends ReactionRunDeps {
  reactions: () => Promise<GroupReactions[]>;
  node: (nodeId: string) => Promise<NodeItem | undefined>;
  windows: Pick<ReactionWindows, 'markReacted'>;
  /** A run's status: `running`, or its final status (the runs table's, else the execution's). */
  runStatus: (runId: string) => Promise<string>;
  /** Keeps Auto Scaling waiting while the reactions run (RecordLifecycleActionHeartbeat). */
  heartbeat: (host: LeavingHost) => Promise<unknown>;
  waitSec: number;
  now: () => number;
  log: ReactionRunDeps['log'] & { warn(message: string, extra: Record<string, unknown>): void };
}

/**
 * The run id of a reaction before one host's decommission: fixed by the lifecycle action (a
 * retried step starts the same run), distinct from every debounce window's.
 */
export function decommissionReactionRunId(
  reacting: string,
  reaction: StoredReaction,
  host: Pick<LeavingHost, 'instanceId' | 'token'>,
): string {
  const action = createHash('sha256').update(`${host.instanceId}\n${host.token}`).digest('hex').slice(0, 10);
  return `reaction-before-${action}-${reactionKey(reacting, reaction)}-${reacting}`.slice(0, 80);
}

/** Starts the leaving host's `terminated` reactions; `done` at once when it has none. */
export async function startDecommissionReactions(
  host: LeavingHost,
  deps: DecommissionReactionDeps,
): Promise<DecommissionReactions> {
  const now = deps.now();
  const node = await deps.node(host.instanceId);
  const group = node?.facts?.[GROUP_FACT];
  const matches = matchingReactions(await deps.reactions(), {
    event: 'terminated',
    asg: host.asg,
    ...(typeof group === 'string' ? { group } : {}),
  });
  if (matches.length === 0) return over([], now, 'done', []);
  const who = node?.identity ?? host.instanceId;
  const runIds: string[] = [];
  for (const { reacting, reaction, asg } of matches) {
    const runId = decommissionReactionRunId(reacting, reaction, host);
    const ref = { reacting, reaction, ...(asg ? { targetAsg: asg } : {}) };
    await startReactionRun(runId, ref, [who], deps, { nodeId: host.instanceId, before: 'decommission' });
    runIds.push(runId);
  }
  // Noted once they started: the host's Node Terminated (after this action) skips them.
  await deps.windows.markReacted(
    host.instanceId,
    matches.map((m) => reactionKey(m.reacting, m.reaction)),
    now,
  );
  const waitMs = Math.min(deps.waitSec, host.sliceSec) * 1000;
  const deadline = Math.min(now + waitMs, host.deadline);
  const runs = runIds.map((runId) => ({ runId, status: 'running' }));
  return {
    runIds,
    deadline,
    state: 'waiting',
    waitFor: runIds[0]!,
    waitSec: secondsUntil(deadline, now),
    runs,
  };
}

const secondsUntil = (deadline: number, now: number) => Math.max(1, Math.ceil((deadline - now) / 1000));

const over = (
  runIds: string[],
  deadline: number,
  state: 'done' | 'timedOut',
  runs: DecommissionReactions['runs'],
): DecommissionReactions => ({ runIds, deadline, state, waitFor: '', waitSec: 1, runs });

/** Looks at the reactions' runs: all ended (`done`), the wait's end (`timedOut`), or one to wait for. */
export async function pendingDecommissionReactions(
  host: LeavingHost,
  deps: DecommissionReactionDeps,
): Promise<DecommissionReactions> {
  const current = host.reactions ?? over([], 0, 'done', []);
  const runs = await Promise.all(
    current.runIds.map(async (runId) => ({ runId, status: await deps.runStatus(runId) })),
  );
  // A heartbeat after each wait: the reactions' time does not count against the hook's timeout.
  await deps.heartbeat(host).catch((error: unknown) => {
    deps.log.warn('lifecycle heartbeat failed while reactions ran', { instanceId: host.instanceId, error });
  });
  const running = runs.filter((r) => r.status === 'running');
  if (running.length === 0) return over(current.runIds, current.deadline, 'done', runs);
  const now = deps.now();
  if (now >= current.deadline) {
    deps.log.warn('decommission reactions still running; the decommission goes on', {
      instanceId: host.instanceId,
      running: running.map((r) => r.runId),
    });
    return over(current.runIds, current.deadline, 'timedOut', runs);
  }
  return {
    ...current,
    state: 'waiting',
    waitFor: running[0]!.runId,
    waitSec: secondsUntil(current.deadline, now),
    runs,
  };
}
