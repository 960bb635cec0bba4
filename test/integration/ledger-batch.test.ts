/**
 * A reply must name its node's batch: a host cannot move its node, or add to another batch's
 * counters, with a reply naming a batch it is not in (found by the adversarial suite: an ack for
 * batch 7 turned a given-up node `late`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { ReplyLedger } from '#functions/run/reply-ledger.ts';
import { batchSk, nodeSk, type BatchItem, type NodeRunItem } from '#shared/runs-table.ts';
import { newRunId } from '#shared/ids.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { ackReply, resultReply } from '../helpers/factories.ts';

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

async function seed(runId: string, status: NodeRunItem['status'], closed = false): Promise<void> {
  const table = t.stack.file.runsTable;
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  for (const batch of [0, 1]) {
    await t.db.send(
      new PutCommand({
        TableName: table,
        Item: {
          runId,
          sk: batchSk(batch),
          batch,
          expected: 1,
          acked: 0,
          rejected: 0,
          done: 0,
          unreachable: 0,
          expiresAt,
        },
      }),
    );
  }
  await t.db.send(
    new PutCommand({
      TableName: table,
      Item: {
        runId,
        sk: nodeSk('web-1'),
        nodeId: 'web-1',
        identity: 'web-1',
        batch: 0,
        inbox: 'x',
        status,
        expiresAt,
        ...(closed ? { closed: true } : {}),
      },
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
    expect((await get<NodeRunItem>(runId, nodeSk('web-1'))).status).toBe('pending');
    for (const batch of [0, 1])
      expect((await get<BatchItem>(runId, batchSk(batch))).ackedBy?.size ?? 0).toBe(0);
  });

  it('does not make a node the batch gave up on late', async () => {
    const runId = newRunId();
    await seed(runId, 'no_response', true);
    const ledger = new ReplyLedger({ db, sfn: t.sfn, table: t.stack.file.runsTable, now: () => 1 });

    expect(await ledger.record([ackReply({ runId, nodeId: 'web-1', batch: 7 })])).toEqual(['unknown']);
    expect((await get<NodeRunItem>(runId, nodeSk('web-1'))).status).toBe('no_response');
  });
});
