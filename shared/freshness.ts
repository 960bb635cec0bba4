import { isMember } from './node-status.ts';

/** Heartbeat intervals after which a silent host is no longer discovered, by default. */
export const DEFAULT_STALE_AFTER_HEARTBEATS = 3;

/**
 * Whether discovery still picks a host: it heartbeated within `staleAfterHeartbeats` of its own
 * heartbeat intervals, and it is still a member (not lost, stopped or terminated: see
 * node-status.ts). The run's plan and the CLI's fleet views use the same rule.
 */
export function isFresh(
  node: { lastSeen: number; heartbeatSec: number; status?: string },
  now: number,
  staleAfterHeartbeats: number = DEFAULT_STALE_AFTER_HEARTBEATS,
): boolean {
  return isMember(node) && now - node.lastSeen <= staleAfterHeartbeats * node.heartbeatSec * 1000;
}
