/**
 * Every move the steps make when they give up on hosts goes through the one table of node moves:
 * `RunStore.closeNode` makes each closing move the table lists (walked here against the local
 * DynamoDB), and refuses any other before writing. (The moves replies make: ledger.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NODE_MOVES } from '#shared/stores/node-moves.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { newRunId } from '#shared/ids.ts';
import { nodeSk, type NodeStatus } from '#shared/runs-table.ts';
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

async function seedNode(runId: string, status: NodeStatus): Promise<void> {
  await t.db.send(
    new PutCommand({
      TableName: t.stack.file.runsTable,
      Item: { runId, sk: nodeSk('web-1'), nodeId: 'web-1', batch: 0, status, expiresAt: 0 },
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
