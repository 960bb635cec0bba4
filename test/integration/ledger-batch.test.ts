/**
 * A reply must name its node's batch: a host cannot move its node, or add to another batch's
 * counters, with a reply naming a batch it is not in (found by the adversarial suite: an ack for
 * batch 7 turned a given-up node `late`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { ReplyLedger } from '#functions/run/reply-ledger.ts';
import {
  batchSk,
  groupPk,
  nodeSk,
  tallySk,
  type BatchItem,
  type NodeRunItem,
  type TallyItem,
} from '#shared/runs-table.ts';
import { tallyCounts } from '#functions/run/reply-transitions.ts';
import { newRunId } from '#shared/ids.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { ackReply, resultReply } from '../helpers/factories.ts';
import { batchCountsOf, seedBatch } from '../helpers/run-seed.ts';

let t: TestStack;
let db: DynamoDBClient;
beforeAll(async () => {
  t = await startTestStack();
  const f = t.stack.file;
  db = createPlainDynamoClient({ region: f.region, endpoints: f.endpoints, credentials: f.credentials });
}, 60_000);
afterAll(async () => {
  db?.destroy();
  await t?.stop();
});

/** Two dispatched batches of one host each, as Plan lays them out; web-1 in batch 0 is `status`. */
async function seed(runId: string, status: NodeRunItem['status'], closed = false): Promise<void> {
  const table = t.stack.file.runsTable;
  await seedBatch(t.db, table, runId, ['web-1'], { batch: 0, dispatchedAt: 1 });
  await seedBatch(t.db, table, runId, ['web-2'], { batch: 1, dispatchedAt: 1 });
  await t.db.send(
    new UpdateCommand({
      TableName: table,
      Key: { runId: groupPk(runId, 0, 0), sk: nodeSk('web-1') },
      UpdateExpression: closed ? 'SET #s = :s, closed = :c' : 'SET #s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': status, ...(closed ? { ':c': true } : {}) },
    }),
  );
}

const get = async <T>(runId: string, sk: string) =>
  (
    await t.db.send(
      new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk }, ConsistentRead: true }),
    )
  ).Item as T;

describe('a reply naming another batch than its node', () => {
  it('does not move a waiting node nor count in either batch', async () => {
    const runId = newRunId();
    await seed(runId, 'pending');
    const ledger = new ReplyLedger({ db, sfn: t.sfn, table: t.stack.file.runsTable, now: () => 1 });

    const outcomes = await ledger.record([
      ackReply({ runId, nodeId: 'web-1', batch: 1 }),
      resultReply({ runId, nodeId: 'web-1', batch: 1 }),
    ]);

    expect(outcomes).toEqual(['unknown', 'unknown']);
    expect((await get<NodeRunItem>(groupPk(runId, 0, 0), nodeSk('web-1'))).status).toBe('pending');
    for (const batch of [0, 1])
      expect((await batchCountsOf(t.db, t.stack.file.runsTable, runId, batch)).acked).toBe(0);
  });

  it('does not make a node the batch gave up on late', async () => {
    const runId = newRunId();
    await seed(runId, 'no_response', true);
    const ledger = new ReplyLedger({ db, sfn: t.sfn, table: t.stack.file.runsTable, now: () => 1 });

    expect(await ledger.record([ackReply({ runId, nodeId: 'web-1', batch: 7 })])).toEqual(['unknown']);
    expect((await get<NodeRunItem>(groupPk(runId, 0, 0), nodeSk('web-1'))).status).toBe('no_response');
  });
});

describe('a reply naming another dispatch group than its node', () => {
  /** One dispatched batch of four hosts in two groups of two: web-1, web-2 in 0; web-3, web-4 in 1. */
  async function seedGroups(runId: string): Promise<void> {
    await seedBatch(t.db, t.stack.file.runsTable, runId, ['web-1', 'web-2', 'web-3', 'web-4'], {
      groupSize: 2,
      dispatchedAt: 1,
    });
  }
  const tally = (runId: string, group: number) =>
    get<TallyItem>(groupPk(runId, 0, group), tallySk(0, group)).then((item) => tallyCounts(item));

  it('moves nothing and counts nothing when the group is forged, in either group', async () => {
    const runId = newRunId();
    await seedGroups(runId);
    const ledger = new ReplyLedger({ db, sfn: t.sfn, table: t.stack.file.runsTable, now: () => 1 });

    const outcomes = await ledger.record([
      ackReply({ runId, nodeId: 'web-1', batch: 0, group: 1 }),
      resultReply({ runId, nodeId: 'web-3', batch: 0, group: 0 }),
      ackReply({ runId, nodeId: 'web-2', batch: 0, group: 7 }),
    ]);

    expect(outcomes).toEqual(['unknown', 'unknown', 'unknown']);
    for (const id of ['web-1', 'web-2', 'web-3'])
      expect(
        (await get<NodeRunItem>(groupPk(runId, 0, Number(id.slice(4)) > 2 ? 1 : 0), nodeSk(id))).status,
      ).toBe('pending');
    expect(await tally(runId, 0)).toMatchObject({ acked: 0, done: 0 });
    expect(await tally(runId, 1)).toMatchObject({ acked: 0, done: 0 });
    expect((await get<BatchItem>(runId, batchSk(0))).groupsAcked).toBeUndefined();
  });

  it('counts a genuine reply in its own group once, however often it is replayed, and a forged copy never', async () => {
    const runId = newRunId();
    await seedGroups(runId);
    const ledger = new ReplyLedger({ db, sfn: t.sfn, table: t.stack.file.runsTable, now: () => 1 });
    const genuine = resultReply({ runId, nodeId: 'web-3', batch: 0, group: 1 });

    const first = await ledger.record([genuine, genuine]);
    const replayed = await ledger.record([genuine, { ...genuine, group: 0 }, { ...genuine, batch: 1 }]);

    expect([...first].sort()).toEqual(['duplicate', 'recorded']);
    expect(replayed).toEqual(['duplicate', 'unknown', 'unknown']);
    expect(await tally(runId, 1)).toMatchObject({ expected: 2, acked: 1, done: 1 });
    expect(await tally(runId, 0)).toMatchObject({ expected: 2, acked: 0, done: 0 });
  });

  it('finds the group of a reply that names none (an agent older than groups) on its node', async () => {
    const runId = newRunId();
    await seedGroups(runId);
    const ledger = new ReplyLedger({ db, sfn: t.sfn, table: t.stack.file.runsTable, now: () => 1 });

    const outcomes = await ledger.record([
      ackReply({ runId, nodeId: 'web-4', batch: 0 }),
      ackReply({ runId, nodeId: 'web-3', batch: 0 }),
    ]);
    const again = await ledger.record([resultReply({ runId, nodeId: 'web-4', batch: 0 })]);

    expect(outcomes).toEqual(['recorded', 'recorded']);
    expect(again).toEqual(['recorded']);
    expect(await tally(runId, 1)).toMatchObject({ acked: 2, done: 1 });
    expect(await tally(runId, 0)).toMatchObject({ acked: 0 });
    // Group 1 has every ack: the batch records it, group 0 not yet.
    expect([...((await get<BatchItem>(runId, batchSk(0))).groupsAcked ?? [])]).toEqual([1]);
  });
});
