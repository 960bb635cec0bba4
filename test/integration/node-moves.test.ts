/**
 * The whole table of node moves walked against the local DynamoDB: every move each row lists
 * succeeds with the condition `moveCondition` gives it, and the same write is refused when the
 * node is in a status the row does not list or when any of the row's guards does not hold.
 * `RunStore.closeNode` makes each closing move and refuses any other before writing; `sealNode`
 * seals only what it read. (How replies use the moves: ledger.test.ts, ledger-window.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  moveCondition,
  NODE_MOVES,
  UNCHANGED,
  type MoveGuard,
  type NodeMoveName,
  type NodeMoveRow,
} from '#shared/stores/node-moves.ts';
import { awsErrorName } from '#shared/aws.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { newRunId } from '#shared/ids.ts';
import { NODE_STATUSES, nodeSk, type NodeStatus } from '#shared/runs-table.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';

let t: TestStack;
let store: RunStore;

beforeAll(async () => {
  t = await startTestStack();
  store = new RunStore(t.db, t.stack.file.runsTable);
});

afterAll(async () => {
  await t?.stop();
});

async function seedNode(
  runId: string,
  status: NodeStatus,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await t.db.send(
    new PutCommand({
      TableName: t.stack.file.runsTable,
      Item: { runId, sk: nodeSk('web-1'), nodeId: 'web-1', batch: 0, status, expiresAt: 0, ...extra },
    }),
  );
}

async function nodeOf(runId: string) {
  const out = await t.db.send(
    new GetCommand({
      TableName: t.stack.file.runsTable,
      Key: { runId, sk: nodeSk('web-1') },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

const closingMoves = NODE_MOVES.filter((m) => 'closes' in m).flatMap((m) =>
  (m.from as readonly NodeStatus[]).flatMap((from) =>
    (m.to as readonly NodeStatus[]).map((to) => [m.by, from, to] as const),
  ),
);

describe('closeNode walks the table of node moves', () => {
  it.each(closingMoves)('%s: %s → %s, closed', async (_by, from, to) => {
    const runId = newRunId();
    await seedNode(runId, from);

    expect(await store.closeNode(runId, 'web-1', from, to)).toBe(true);
    expect(await nodeOf(runId)).toMatchObject({ status: to, closed: true });
  });

  it('refuses a move the table does not list, without writing', async () => {
    const runId = newRunId();
    await seedNode(runId, 'succeeded');

    await expect(store.closeNode(runId, 'web-1', 'succeeded', 'no_response')).rejects.toMatchObject({
      name: 'IllegalNodeMove',
    });
    expect(await nodeOf(runId)).toMatchObject({ status: 'succeeded' });
    expect((await nodeOf(runId))?.closed).toBeUndefined();
  });

  it('leaves a node that a reply moved first', async () => {
    const runId = newRunId();
    await seedNode(runId, 'acked');

    expect(await store.closeNode(runId, 'web-1', 'pending', 'no_response')).toBe(false);
    expect(await nodeOf(runId)).toMatchObject({ status: 'acked' });
  });
});

const rows: readonly NodeMoveRow[] = NODE_MOVES;

/** What a node must carry for each guard to hold (the context is always batch 0, unsealed). */
const HOLDS: Record<MoveGuard, Record<string, unknown>> = {
  sameBatch: {},
  closed: { closed: true },
  unsealed: {},
  noResult: {},
  sealAsRead: {},
};
/** What makes each guard fail. */
const BREAKS: Record<MoveGuard, Record<string, unknown>> = {
  sameBatch: { batch: 1 },
  closed: {},
  unsealed: { sealed: true },
  noResult: { resultAt: 1 },
  sealAsRead: { sealed: true },
};

/** The node as a move's guards need it, with `extra` on top. */
const seedFor = (row: NodeMoveRow, extra: Record<string, unknown> = {}) =>
  Object.assign({}, ...(row.when ?? []).map((g) => HOLDS[g]), extra) as Record<string, unknown>;

/** The move's write: the status it lands on (or a mark, for a row that keeps it), under its condition. */
async function move(runId: string, row: NodeMoveRow, from: NodeStatus, to: NodeStatus | typeof UNCHANGED) {
  const condition = moveCondition(row.name as NodeMoveName, [from], to, { batch: 0, sealed: false });
  try {
    await t.db.send(
      new UpdateCommand({
        TableName: t.stack.file.runsTable,
        Key: { runId, sk: nodeSk('web-1') },
        UpdateExpression: to === UNCHANGED ? 'SET #mark = :mark' : 'SET #status = :to',
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: {
          ...condition.ExpressionAttributeNames,
          ...(to === UNCHANGED ? { '#mark': 'mark' } : {}),
        },
        ExpressionAttributeValues: {
          ...condition.values,
          ...(to === UNCHANGED ? { ':mark': true } : { ':to': to }),
        },
      }),
    );
    return true;
  } catch (error: unknown) {
    if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

type Target = NodeStatus | typeof UNCHANGED;
const listed: (readonly [string, NodeStatus, Target, NodeMoveRow])[] = rows.flatMap((row) =>
  row.from.flatMap((from) =>
    (row.to === UNCHANGED ? ([UNCHANGED] as const) : row.to).map(
      (to: Target) => [row.name, from, to, row] as const,
    ),
  ),
);

describe('the table of node moves, walked against DynamoDB', () => {
  it.each(listed)('%s: %s → %s succeeds under its condition', async (_name, from, to, row) => {
    const runId = newRunId();
    await seedNode(runId, from, seedFor(row));

    expect(await move(runId, row, from, to)).toBe(true);
    expect(await nodeOf(runId)).toMatchObject(
      to === UNCHANGED ? { status: from, mark: true } : { status: to },
    );
  });

  it.each(rows.map((row) => [row.name, row] as const))(
    '%s: refused for a node in any status the row does not list',
    async (_name, row) => {
      const to = row.to === UNCHANGED ? UNCHANGED : row.to[0]!;
      for (const actual of NODE_STATUSES.filter((s) => !row.from.includes(s))) {
        const runId = newRunId();
        await seedNode(runId, actual, seedFor(row));
        expect(await move(runId, row, row.from[0]!, to), `node in ${actual}`).toBe(false);
        expect(await nodeOf(runId)).toMatchObject({ status: actual });
      }
    },
  );

  const guarded = rows.flatMap((row) => (row.when ?? []).map((guard) => [row.name, guard, row] as const));
  it.each(guarded)('%s: refused when its guard %s does not hold', async (_name, guard, row) => {
    const runId = newRunId();
    const others = (row.when ?? []).filter((g) => g !== guard).map((g) => HOLDS[g]);
    await seedNode(runId, row.from[0]!, Object.assign({}, ...others, BREAKS[guard]));

    expect(await move(runId, row, row.from[0]!, row.to === UNCHANGED ? UNCHANGED : row.to[0]!)).toBe(false);
    expect(await nodeOf(runId)).toMatchObject({ status: row.from[0] });
  });
});

describe('sealNode', () => {
  it('seals a node given up on in the status Finish read, and not one a reply moved since', async () => {
    const runId = newRunId();
    await seedNode(runId, 'no_response', { closed: true });

    expect(await store.sealNode(runId, 'web-1', 'timed_out')).toBe(false);
    expect((await nodeOf(runId))?.sealed).toBeUndefined();
    expect(await store.sealNode(runId, 'web-1', 'no_response')).toBe(true);
    expect(await nodeOf(runId)).toMatchObject({ status: 'no_response', sealed: true });
  });

  it('refuses to seal a status no host given up on has, without writing', async () => {
    const runId = newRunId();
    await seedNode(runId, 'succeeded');

    await expect(store.sealNode(runId, 'web-1', 'succeeded')).rejects.toMatchObject({
      name: 'IllegalNodeMove',
    });
    expect((await nodeOf(runId))?.sealed).toBeUndefined();
  });
});
