/**
 * How a reply moves a node through its states, and which of its group's counting markers each
 * node status implies (the moves themselves: shared/stores/node-moves.ts). Pure: the ledger
 * applies the result with conditional writes.
 *
 * A dispatch group counts on its tally item with marker sets, not numbers: `ackedBy`,
 * `rejectedBy`, `doneBy` and `unreachableBy` hold node ids, and a count is a set's size. Adding a node to a set twice leaves
 * it unchanged, so a counting write that is retried (an `ADD` that applied but answered 500) or
 * replayed (a redelivered reply) can never count twice, and a reply redelivered after its counting
 * write was lost re-applies the markers its node's status implies, which repairs the count.
 */
import type { AckReply, RejectedReply, ResultReply } from '#shared/messages.ts';
import type { NodeRunItem, NodeStatus, TallyItem } from '#shared/runs-table.ts';
import { movesFrom, type NodeMoveName } from '#shared/stores/node-moves.ts';

export type RunReply = AckReply | RejectedReply | ResultReply;

/** The marker sets of a tally item (one per dispatch group). */
export const MARKERS = ['ackedBy', 'rejectedBy', 'doneBy', 'unreachableBy'] as const;
export type Marker = (typeof MARKERS)[number];

/** The row of the table of node moves each kind of reply makes. */
export const REPLY_MOVE: Record<RunReply['type'], NodeMoveName> = {
  ack: 'ack',
  rejected: 'reject',
  result: 'result',
};

/**
 * The states a reply may move a node out of, in the normal flow: its row's, as the table lists
 * them (a result: `acked` first, since most results follow their ack).
 */
export function acceptedFrom(reply: RunReply): NodeStatus[] {
  return [...movesFrom(REPLY_MOVE[reply.type])];
}

/** The status a result reply gives its node. */
export function resultStatus(reply: ResultReply): NodeStatus {
  if (reply.cancelled) return 'cancelled';
  if (reply.timedOut) return 'timed_out';
  if (reply.exitCode === 0 && reply.error === undefined) return 'succeeded';
  return 'failed';
}

/** The status a reply gives its node, whatever the node's status was (among those it may leave). */
export function statusAfter(reply: RunReply): NodeStatus {
  switch (reply.type) {
    case 'ack':
      return 'acked';
    case 'rejected':
      return 'rejected';
    case 'result':
      return resultStatus(reply);
  }
}

/**
 * The markers a node's status puts in its group's counts. A result implies its ack (it can
 * overtake it). A node the batch gave up on (`closed`) counts nothing more, except an unreachable
 * inbox, which answers the acknowledgement wait: the waits are over for the others.
 */
export function markersFor(node: Pick<NodeRunItem, 'status' | 'closed'>): Marker[] {
  if (node.status === 'unreachable') return ['unreachableBy'];
  if (node.closed) return [];
  switch (node.status) {
    case 'acked':
      return ['ackedBy'];
    case 'rejected':
      return ['rejectedBy'];
    case 'succeeded':
    case 'failed':
    case 'timed_out':
    case 'cancelled':
      return ['ackedBy', 'doneBy'];
    default:
      return [];
  }
}

export interface BatchCounts {
  expected: number;
  acked: number;
  rejected: number;
  done: number;
  unreachable: number;
}

/** A group's counts: the sizes of its tally's marker sets. */
export function tallyCounts(tally: Pick<TallyItem, 'expected' | Marker>): BatchCounts {
  return {
    expected: tally.expected,
    acked: tally.ackedBy?.size ?? 0,
    rejected: tally.rejectedBy?.size ?? 0,
    done: tally.doneBy?.size ?? 0,
    unreachable: tally.unreachableBy?.size ?? 0,
  };
}

/** The counts of several groups added up (a batch's, from its tallies). */
export function sumCounts(counts: readonly BatchCounts[]): BatchCounts {
  const sum: BatchCounts = { expected: 0, acked: 0, rejected: 0, done: 0, unreachable: 0 };
  for (const c of counts) {
    sum.expected += c.expected;
    sum.acked += c.acked;
    sum.rejected += c.rejected;
    sum.done += c.done;
    sum.unreachable += c.unreachable;
  }
  return sum;
}

/**
 * Hosts still owing an answer: not yet acknowledged (nor rejected, nor unreachable), or
 * acknowledged without a result. A result implies its ack, so `done` hosts are among `acked`.
 */
export function unanswered(c: BatchCounts): number {
  return Math.max(0, c.expected - c.done - c.rejected - c.unreachable);
}

/**
 * True when the group has everything it can get: every host answered the acknowledgement wait and
 * every host that acknowledged reported. Unlike `resultsComplete` alone, this never turns false
 * again (sets only grow, and a host answers the acknowledgement wait in one set only), so the
 * batch may record it once for good.
 */
export function groupFinished(c: BatchCounts): boolean {
  return acksComplete(c) && resultsComplete(c);
}

/** True when the acknowledgement wait of a group (or batch) has every answer it can get. */
export function acksComplete(
  c: Pick<BatchCounts, 'expected' | 'acked' | 'rejected' | 'unreachable'>,
): boolean {
  return c.acked + c.rejected + c.unreachable >= c.expected;
}

/** True when every host that acknowledged has sent its result. */
export function resultsComplete(c: Pick<BatchCounts, 'acked' | 'done'>): boolean {
  return c.done >= c.acked;
}
