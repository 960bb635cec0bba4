/**
 * The lifecycle of a node in a run: every status it may move between, by who moves it. The one
 * table the writers of the runs table consult (the reply ledger for replies, `RunStore.closeNode`
 * for the steps that give up on hosts); a move that is not here is refused before any write.
 */
import type { NodeStatus } from '../runs-table.ts';

/**
 * Every move a node's status may make, by who makes it: the one table the writers consult (the
 * ledger for replies, `RunStore.closeNode` for the steps that give up on hosts). A move that is
 * not here is refused before any write. `closes`: the run gave up on the host (`closed` is set),
 * so a reply after that is `late`.
 */
export const NODE_MOVES = [
  { by: 'ack', from: ['pending'], to: ['acked'] },
  { by: 'rejection', from: ['pending'], to: ['rejected'] },
  // A result may overtake its ack (it then implies it).
  { by: 'result', from: ['acked', 'pending'], to: ['succeeded', 'failed', 'timed_out', 'cancelled'] },
  { by: 'dispatch: inbox unreachable', from: ['pending'], to: ['unreachable'], closes: true },
  {
    by: 'close batch: never acknowledged',
    from: ['pending'],
    to: ['no_response', 'cancelled'],
    closes: true,
  },
  { by: 'close batch: never reported', from: ['acked'], to: ['timed_out', 'cancelled'], closes: true },
  { by: 'cancel: gives up on the unacknowledged', from: ['pending'], to: ['cancelled'], closes: true },
  { by: 'finish: batch never dispatched', from: ['pending'], to: ['skipped', 'cancelled'], closes: true },
  // An answer that reached SQS before the acknowledgement window closed, recorded after CloseBatch
  // gave up on its host (ingest was behind): it counts, unless Finish has counted the host already.
  {
    by: 'reply sent within the window, recorded after the close',
    from: ['no_response'],
    to: ['acked', 'succeeded', 'failed', 'timed_out', 'cancelled'],
  },
  {
    by: 'late reply',
    from: ['no_response', 'timed_out', 'cancelled', 'unreachable', 'late'],
    to: ['late'],
  },
] as const satisfies readonly {
  by: string;
  from: readonly NodeStatus[];
  to: readonly NodeStatus[];
  closes?: true;
}[];

/** Whether the table allows a node to move from `from` to `to` (`closing`: a step gives up on it). */
export function isNodeMove(from: NodeStatus, to: NodeStatus, closing: boolean): boolean {
  return NODE_MOVES.some(
    (move) =>
      'closes' in move === closing &&
      (move.from as readonly NodeStatus[]).includes(from) &&
      (move.to as readonly NodeStatus[]).includes(to),
  );
}

/** A write the transition table does not allow: a bug in the writer, never retried. */
export class IllegalNodeMove extends Error {
  override name = 'IllegalNodeMove';
}
