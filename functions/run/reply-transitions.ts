/**
 * How a reply moves a node through its states, and what it adds to the batch counters.
 * Pure: the ledger applies the result with conditional writes, so a duplicate never counts twice.
 */
import type { AckReply, RejectedReply, ResultReply } from '#shared/messages.ts';
import type { NodeStatus } from '#shared/runs-table.ts';

export type RunReply = AckReply | RejectedReply | ResultReply;

export interface CounterDeltas {
  acked: number;
  rejected: number;
  done: number;
}

export const NO_DELTAS: CounterDeltas = { acked: 0, rejected: 0, done: 0 };

/** The states a reply may move a node out of, in the normal flow. */
export function acceptedFrom(reply: RunReply): NodeStatus[] {
  switch (reply.type) {
    case 'ack':
    case 'rejected':
      return ['pending'];
    case 'result':
      // Most results follow their ack: try that first.
      return ['acked', 'pending'];
  }
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

/** The new status of a node and the counter deltas, given its status before the reply. */
export function transition(
  previous: NodeStatus,
  reply: RunReply,
): { status: NodeStatus; deltas: CounterDeltas } {
  const status = statusAfter(reply);
  switch (reply.type) {
    case 'ack':
      return { status, deltas: { ...NO_DELTAS, acked: 1 } };
    case 'rejected':
      return { status, deltas: { ...NO_DELTAS, rejected: 1 } };
    case 'result':
      // A result can overtake its ack (on a standard queue, or when the agent folds a fast
      // command's ack into its result): it then implies the ack.
      return { status, deltas: { ...NO_DELTAS, acked: previous === 'pending' ? 1 : 0, done: 1 } };
  }
}

export function addDeltas(a: CounterDeltas, b: CounterDeltas): CounterDeltas {
  return { acked: a.acked + b.acked, rejected: a.rejected + b.rejected, done: a.done + b.done };
}

/** True when the acknowledgement wait of a batch has every answer it can get. */
export function acksComplete(c: {
  expected: number;
  acked: number;
  rejected: number;
  unreachable: number;
}): boolean {
  return c.acked + c.rejected + c.unreachable >= c.expected;
}

/** True when every host that acknowledged has sent its result. */
export function resultsComplete(c: { acked: number; done: number }): boolean {
  return c.done >= c.acked;
}
