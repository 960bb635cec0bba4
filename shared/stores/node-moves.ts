/**
 * The lifecycle of a node in a run: the one table of every status a node may move between, who
 * moves it, and the condition its write carries. Every writer of a node's status (the reply
 * ledger for replies, `RunStore.closeNode` for the steps that give up on hosts, `RunStore.sealNode`
 * for Finish) takes its ConditionExpression from `moveCondition`, which refuses a move the table
 * does not list (IllegalNodeMove) before anything is written.
 */
import type { NodeStatus } from '../runs-table.ts';

/**
 * What a move's write requires beyond the node's status:
 * - `sameBatch`: the node belongs to the reply's batch, and to its dispatch group when the reply
 *   names one (a host cannot move its node, nor count in another batch or group, with a reply
 *   that names another);
 * - `closed`: the run gave up on the host; `unsealed`: Finish has not counted it yet;
 * - `noResult`: no result or rejection recorded yet (a late reply is recorded once);
 * - `sealAsRead`: the seal is as the writer read it (a seal landing meanwhile makes it read again).
 */
export type MoveGuard = 'sameBatch' | 'closed' | 'unsealed' | 'noResult' | 'sealAsRead';

/** A write that keeps the node's status (it records an outcome, or a seal). */
export const UNCHANGED = 'unchanged';

export interface NodeMoveRow {
  name: string;
  by: string;
  from: readonly NodeStatus[];
  to: readonly NodeStatus[] | typeof UNCHANGED;
  /** The run gives up on the host: the write sets `closed`, so a reply after it is `late`. */
  closes?: true;
  /** The write removes `closed`: the host counts again. */
  reopens?: true;
  when?: readonly MoveGuard[];
}

/** The statuses of a node the run gave up on (`closed`). */
const GIVEN_UP: readonly NodeStatus[] = [
  'no_response',
  'timed_out',
  'cancelled',
  'unreachable',
  'skipped',
  'late',
];

export const NODE_MOVES = [
  { name: 'ack', by: 'an ack', from: ['pending'], to: ['acked'], when: ['sameBatch'] },
  { name: 'reject', by: 'a rejection', from: ['pending'], to: ['rejected'], when: ['sameBatch'] },
  // A result may overtake its ack (it then implies it).
  {
    name: 'result',
    by: 'a result',
    from: ['acked', 'pending'],
    to: ['succeeded', 'failed', 'timed_out', 'cancelled'],
    when: ['sameBatch'],
  },
  {
    name: 'unreachable',
    by: 'dispatch: inbox unreachable',
    from: ['pending'],
    to: ['unreachable'],
    closes: true,
  },
  {
    name: 'give up unacknowledged',
    by: 'close batch: never acknowledged',
    from: ['pending'],
    to: ['no_response', 'cancelled'],
    closes: true,
  },
  {
    name: 'give up unreported',
    by: 'close batch or finish: acknowledged, never reported',
    from: ['acked'],
    to: ['timed_out', 'cancelled'],
    closes: true,
  },
  {
    name: 'cancel unacknowledged',
    by: 'cancel: gives up on the unacknowledged',
    from: ['pending'],
    to: ['cancelled'],
    closes: true,
  },
  {
    name: 'skip undispatched',
    by: 'finish: batch never dispatched',
    from: ['pending'],
    to: ['skipped', 'cancelled'],
    closes: true,
  },
  // An answer that reached SQS before the acknowledgement window closed, recorded after CloseBatch
  // gave up on its host (ingest was behind): it counts, unless Finish has counted the host already.
  {
    name: 'reopen',
    by: 'reply sent within the window, recorded after the close',
    from: ['no_response'],
    to: ['acked', 'succeeded', 'failed', 'timed_out', 'cancelled'],
    reopens: true,
    when: ['sameBatch', 'unsealed'],
  },
  {
    name: 'late',
    by: 'late reply',
    from: ['no_response', 'timed_out', 'cancelled', 'unreachable', 'late'],
    to: ['late'],
    when: ['closed', 'noResult', 'sealAsRead'],
  },
  // A cancel gave up on a host whose ack was still delayed, and the host reports the command it
  // killed: that is its outcome, kept as `cancelled` (its fields recorded), not a late reply.
  {
    name: 'confirm cancel',
    by: 'the cancelled result of a host a cancel gave up on',
    from: ['cancelled'],
    to: UNCHANGED,
    when: ['closed', 'noResult', 'sealAsRead'],
  },
  // Finish counted a host it gave up on as what it is: a reply after this is late "after summary".
  { name: 'seal', by: 'finish: counts a host given up on', from: GIVEN_UP, to: UNCHANGED },
] as const satisfies readonly NodeMoveRow[];

export type NodeMoveName = (typeof NODE_MOVES)[number]['name'];

/** A write the transition table does not allow: a bug in the writer, never retried. */
export class IllegalNodeMove extends Error {
  override name = 'IllegalNodeMove';
}

function row(name: NodeMoveName): NodeMoveRow {
  return NODE_MOVES.find((move) => move.name === name)!;
}

/** The statuses the row named `name` moves a node out of, in the table's order. */
export function movesFrom(name: NodeMoveName): readonly NodeStatus[] {
  return row(name).from;
}

/** Whether the table allows a node to move from `from` to `to` (`closing`: a step gives up on it). */
export function isNodeMove(from: NodeStatus, to: NodeStatus, closing: boolean): boolean {
  return NODE_MOVES.some((move: NodeMoveRow) => allows(move, from, to) && (move.closes === true) === closing);
}

function allows(move: NodeMoveRow, from: NodeStatus, to: NodeStatus | typeof UNCHANGED): boolean {
  return (
    move.from.includes(from) &&
    (move.to === UNCHANGED ? to === UNCHANGED : to !== UNCHANGED && move.to.includes(to))
  );
}

/** The closing move (a step giving up on a host) from `from` to `to`; IllegalNodeMove if none. */
export function closingMove(from: NodeStatus, to: NodeStatus): NodeMoveName {
  const move = NODE_MOVES.find((m: NodeMoveRow) => m.closes === true && allows(m, from, to));
  if (!move) throw new IllegalNodeMove(`a step may not give up on a node by moving it from ${from} to ${to}`);
  return move.name;
}

/** What a move's guards compare with: the reply's batch and group, the seal as the writer read it. */
export interface MoveContext {
  batch?: number;
  /** The reply's dispatch group; replies of older agents name none (then only the batch is checked). */
  group?: number;
  sealed?: boolean;
}

/** A move's condition, with the names and (plain) values it uses and nothing else. */
export interface NodeCondition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  values: Record<string, unknown>;
}

const GUARD_CLAUSE: Record<Exclude<MoveGuard, 'sameBatch' | 'sealAsRead'>, [string, string]> = {
  closed: ['#closed = :true', 'closed'],
  unsealed: ['attribute_not_exists(#sealed)', 'sealed'],
  noResult: ['attribute_not_exists(#resultAt)', 'resultAt'],
};

/**
 * The condition of move `name` for a node in one of `from`, to `to`: the node is still in one of
 * them, and each of the move's guards holds. Throws IllegalNodeMove, before any write, when the
 * table's row does not allow every `from` to `to`.
 */
export function moveCondition(
  name: NodeMoveName,
  from: readonly NodeStatus[],
  to: NodeStatus | typeof UNCHANGED,
  context: MoveContext = {},
): NodeCondition {
  const move = row(name);
  const refused = from.filter((f) => !allows(move, f, to));
  if (from.length === 0 || refused.length > 0) {
    throw new IllegalNodeMove(
      `the move "${name}" (${move.by}) does not take a node from ${refused.join(', ') || 'nowhere'} to ${to}`,
    );
  }
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, unknown> = Object.fromEntries(from.map((s, i) => [`:from${i}`, s]));
  const clauses = [
    from.length === 1 ? '#status = :from0' : `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
  ];
  for (const guard of move.when ?? []) {
    if (guard === 'sameBatch') {
      if (context.batch === undefined)
        throw new IllegalNodeMove(`the move "${name}" needs the reply's batch`);
      clauses.push('#batch = :batch');
      names['#batch'] = 'batch';
      values[':batch'] = context.batch;
      if (context.group !== undefined) {
        clauses.push('#group = :group');
        names['#group'] = 'group';
        values[':group'] = context.group;
      }
    } else if (guard === 'sealAsRead') {
      if (context.sealed === undefined)
        throw new IllegalNodeMove(`the move "${name}" needs the seal as read`);
      clauses.push(context.sealed ? 'attribute_exists(#sealed)' : 'attribute_not_exists(#sealed)');
      names['#sealed'] = 'sealed';
    } else {
      const [clause, attribute] = GUARD_CLAUSE[guard];
      clauses.push(clause);
      names[`#${attribute}`] = attribute;
      if (guard === 'closed') values[':true'] = true;
    }
  }
  return { ConditionExpression: clauses.join(' AND '), ExpressionAttributeNames: names, values };
}
