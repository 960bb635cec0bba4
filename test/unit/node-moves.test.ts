/**
 * The one table of node moves (shared/stores/node-moves.ts): its shape (every status reached,
 * only forward), `isNodeMove` answering exactly as it lists, and `moveCondition` refusing every
 * move a row does not list before anything is written. Each listed move is walked against the
 * local DynamoDB in test/integration/node-moves.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  closingMove,
  IllegalNodeMove,
  isNodeMove,
  moveCondition,
  NODE_MOVES,
  UNCHANGED,
  type NodeMoveRow,
} from '#shared/stores/node-moves.ts';
import { acceptedFrom, markersFor, statusAfter } from '#functions/run/reply-transitions.ts';
import { NODE_STATUSES, TERMINAL_NODE_STATUSES, type NodeStatus } from '#shared/runs-table.ts';
import { ackReply, rejectedReply, resultReply } from '../helpers/factories.ts';

const rows: readonly NodeMoveRow[] = NODE_MOVES;
/** Every status change the table lists (rows that keep the status are not changes). */
const moves = rows.flatMap((m) =>
  m.to === UNCHANGED
    ? []
    : m.from.flatMap((from) =>
        (m.to as readonly NodeStatus[]).map((to) => ({ from, to, closing: m.closes === true })),
      ),
);

describe('NODE_MOVES, the one table of node moves', () => {
  it('reaches every status from pending, and moves a node only forward (never back to pending or acked from an end)', () => {
    const reached = new Set<NodeStatus>(['pending']);
    for (let changed = true; changed;) {
      changed = false;
      for (const { from, to } of moves) {
        if (reached.has(from) && !reached.has(to)) {
          reached.add(to);
          changed = true;
        }
      }
    }
    expect([...reached].sort()).toEqual([...NODE_STATUSES].sort());
    expect(moves.filter((m) => m.to === 'pending')).toEqual([]);
    // The one way out of an end other than `late`: `no_response` whose answer reached SQS within
    // the window but was recorded after CloseBatch (the ledger checks its SentTimestamp; Finish's
    // seal ends it), and only to what a reply says, never back to pending.
    expect(
      moves.filter((m) => TERMINAL_NODE_STATUSES.has(m.from) && m.to !== 'late' && m.from !== 'no_response'),
    ).toEqual([]);
    expect(
      moves
        .filter((m) => m.from === 'no_response' && m.to !== 'late')
        .map((m) => `${m.to}${m.closing ? '!' : ''}`)
        .sort(),
    ).toEqual(['acked', 'cancelled', 'failed', 'succeeded', 'timed_out']);
  });

  it('names each row once, and keeps the status only for writes on hosts the run gave up on', () => {
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
    for (const row of rows.filter((r) => r.to === UNCHANGED)) {
      expect(row.closes ?? row.reopens).toBeUndefined();
      for (const from of row.from)
        expect(TERMINAL_NODE_STATUSES.has(from), `${row.name}: ${from}`).toBe(true);
    }
  });

  it('answers for every pair of statuses exactly as the table lists it', () => {
    for (const from of NODE_STATUSES) {
      for (const to of NODE_STATUSES) {
        for (const closing of [false, true]) {
          const listed = moves.some((m) => m.from === from && m.to === to && m.closing === closing);
          expect(isNodeMove(from, to, closing), `${from} → ${to}${closing ? ' (closing)' : ''}`).toBe(listed);
        }
      }
    }
  });

  it('lets each reply make the moves the ledger makes for it, and counts what it lands on', () => {
    for (const reply of [ackReply(), rejectedReply(), resultReply(), resultReply({ exitCode: 2 })]) {
      for (const from of acceptedFrom(reply)) expect(isNodeMove(from, statusAfter(reply), false)).toBe(true);
      expect(markersFor({ status: statusAfter(reply) }).length).toBeGreaterThan(0);
    }
  });
});

describe('moveCondition', () => {
  it('refuses, for every row, every status pair the row does not list', () => {
    for (const row of rows) {
      for (const from of NODE_STATUSES) {
        for (const to of [...NODE_STATUSES, UNCHANGED] as const) {
          const listed =
            row.from.includes(from) &&
            (row.to === UNCHANGED ? to === UNCHANGED : to !== UNCHANGED && row.to.includes(to));
          const make = () =>
            moveCondition(row.name as (typeof NODE_MOVES)[number]['name'], [from], to, {
              batch: 0,
              sealed: false,
            });
          if (listed) expect(make, `${row.name}: ${from} → ${to}`).not.toThrow();
          else expect(make, `${row.name}: ${from} → ${to}`).toThrow(IllegalNodeMove);
        }
      }
    }
  });

  it('conditions on the statuses given and each guard of the row, with only the names it uses', () => {
    expect(moveCondition('result', ['acked', 'pending'], 'succeeded', { batch: 3 })).toEqual({
      ConditionExpression: '#status IN (:from0, :from1) AND #batch = :batch',
      ExpressionAttributeNames: { '#status': 'status', '#batch': 'batch' },
      values: { ':from0': 'acked', ':from1': 'pending', ':batch': 3 },
    });
    expect(moveCondition('late', ['no_response'], 'late', { sealed: true })).toEqual({
      ConditionExpression:
        '#status = :from0 AND #closed = :true AND attribute_not_exists(#resultAt) AND attribute_exists(#sealed)',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#closed': 'closed',
        '#resultAt': 'resultAt',
        '#sealed': 'sealed',
      },
      values: { ':from0': 'no_response', ':true': true },
    });
  });

  it('refuses a guarded move without what its guard compares with, and a move from nowhere', () => {
    expect(() => moveCondition('ack', ['pending'], 'acked')).toThrow(IllegalNodeMove);
    expect(() => moveCondition('late', ['no_response'], 'late')).toThrow(IllegalNodeMove);
    expect(() => moveCondition('seal', [], UNCHANGED)).toThrow(IllegalNodeMove);
  });

  it('finds the closing row of a step giving up on a host, and refuses any other', () => {
    expect(closingMove('pending', 'no_response')).toBe('give up unacknowledged');
    expect(closingMove('acked', 'timed_out')).toBe('give up unreported');
    expect(() => closingMove('succeeded', 'no_response')).toThrow(IllegalNodeMove);
    expect(() => closingMove('pending', 'acked')).toThrow(IllegalNodeMove);
  });
});
