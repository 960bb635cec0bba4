/**
 * Membership of a node in its stage: `active` while it heartbeats, `lost` when the reaper found it
 * silent for too many heartbeats, `stopped`/`terminated` when EC2 said so. Only active nodes are
 * ever expected in a run; a lost or stopped node that heartbeats again is active again, a
 * terminated one never is (its instance id is never reused).
 */
export const MEMBERSHIP_STATUSES = ['active', 'lost', 'stopped', 'terminated'] as const;
export type MembershipStatus = (typeof MEMBERSHIP_STATUSES)[number];

/** Missed heartbeats after which the reaper marks a node lost, by default. */
export const DEFAULT_LOST_AFTER_HEARTBEATS = 3;

/** A node's status; records written before statuses existed have none and are active. */
export function nodeStatus(node: { status?: string }): MembershipStatus {
  return (MEMBERSHIP_STATUSES as readonly string[]).includes(node.status ?? '')
    ? (node.status as MembershipStatus)
    : 'active';
}

/** Whether a node may be discovered at all (its freshness is a separate question). */
export function isMember(node: { status?: string }): boolean {
  return nodeStatus(node) === 'active';
}

/**
 * Whether the reaper should mark this node lost: active, and silent for more than
 * `lostAfterHeartbeats` of its own heartbeat intervals.
 */
export function isOverdue(
  node: { status?: string; lastSeen: number; heartbeatSec: number },
  now: number,
  lostAfterHeartbeats: number = DEFAULT_LOST_AFTER_HEARTBEATS,
): boolean {
  return isMember(node) && now - node.lastSeen > lostAfterHeartbeats * node.heartbeatSec * 1000;
}
