/**
 * The reaper (a scheduled function): marks nodes silent for more than N of their own heartbeat
 * intervals `lost` and announces each with `Node Lost`. A node that heartbeats again is made
 * active by ingest (`Node Returned`). Terminations do not wait for it: EC2's state-change events
 * mark them at once (instance-state.ts).
 */
import { isOverdue } from '#shared/node-status.ts';
import type { EventPublisher, NodeEventDetail } from '#shared/drover-events.ts';
import type { NodesStore } from '#shared/stores/nodes-store.ts';

export interface ReapDeps {
  membership: NodesStore;
  events: EventPublisher;
  now: () => number;
  lostAfterHeartbeats: number;
  log: { info(message: string, extra: Record<string, unknown>): void };
}

export class ReaperConfigError extends Error {
  override name = 'ReaperConfigError';
}

/** `DROVER_LOST_AFTER_HEARTBEATS`: a whole number ≥ 2 (one late heartbeat is not a loss). */
export function lostAfterHeartbeatsFrom(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 2 || n > 1000) {
    throw new ReaperConfigError(
      `DROVER_LOST_AFTER_HEARTBEATS must be a whole number from 2 to 1000, got "${value}"`,
    );
  }
  return n;
}

/** Marks every overdue node lost; returns the ids this run marked. */
export async function reapNodes(deps: ReapDeps): Promise<{ lost: string[] }> {
  const now = deps.now();
  const overdue = (await deps.membership.members()).filter((node) =>
    isOverdue(node, now, deps.lostAfterHeartbeats),
  );
  const lost: string[] = [];
  for (const node of overdue) {
    const reason = `missed ${deps.lostAfterHeartbeats} heartbeats (${node.heartbeatSec} s each)`;
    // False when a heartbeat landed since the scan, or another reaper run got there first.
    if (!(await deps.membership.markLost(node, now, reason))) continue;
    lost.push(node.nodeId);
    deps.log.info('node lost', { nodeId: node.nodeId, lastSeen: node.lastSeen });
    const detail: NodeEventDetail = {
      at: now,
      nodeId: node.nodeId,
      identity: node.identity,
      ...(node.asg ? { asg: node.asg } : {}),
      reason,
    };
    await deps.events.publish('Node Lost', { ...detail, lastSeen: node.lastSeen });
  }
  return { lost };
}
