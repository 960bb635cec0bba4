/**
 * How a reply moves a node through its states, and which of the batch's counting markers each
 * node status implies (the moves themselves: shared/stores/node-moves.ts). Pure: the ledger
 * applies the result with conditional writes.
 *
 * A batch counts with marker sets, not numbers: `ackedBy`, `rejectedBy`, `doneBy` and
 * `unreachableBy` hold node ids, and a count is a set's size. Adding a node to a set twice leaves
 * it unchanged, so a counting write that is retried (an `ADD` that applied but answered 500) or
 * replayed (a redelivered reply) can never count twice, and a reply redelivered after its counting
 * write was lost re-applies the markers its node's status implies, which repairs the count.
 */
import type { AckReply, RejectedReply, ResultReply } from '#shared/messages.ts';
import type { BatchItem, NodeRunItem, NodeStatus } from '#shared/runs-table.ts';
import { movesFrom, type NodeMoveName } from '#shared/stores/node-moves.ts';

export type RunReply = AckReply | RejectedReply | ResultReply;

/** The marker sets of a batch item. */
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
 * The markers a node's status puts in its batch's counts. A result implies its ack (it can
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

/** A batch's counts: the sizes of its marker sets. */
export function batchCounts(batch: Pick<BatchItem, 'expected' | Marker>): BatchCounts {
  return {
    expected: batch.expected,
    acked: batch.ackedBy?.size ?? 0,
    rejected: batch.rejectedBy?.size ?? 0,
    done: batch.doneBy?.size ?? 0,
    unreachable: batch.unreachableBy?.size ?? 0,
  };
}

/** True when the acknowledgement wait of a batch has every answer it can get. */
export function acksComplete(
  c: Pick<BatchCounts, 'expected' | 'acked' | 'rejected' | 'unreachable'>,
): boolean {
  return c.acked + c.rejected + c.unreachable >= c.expected;
}

/** True when every host that acknowledged has sent its result. */
export function resultsComplete(c: Pick<BatchCounts, 'acked' | 'done'>): boolean {
  return c.done >= c.acked;
}
