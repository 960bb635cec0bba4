/**
 * Counting per dispatch group: each group's tally counts its hosts, the batch records the groups
 * that have every answer, and a wait is released when its set holds every group; a batch update
 * stays a few bytes however large the batch. Against the local DynamoDB (the 400 KB item limit
 * enforced) through a proxy that fails chosen writes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { ReplyLedger } from '#functions/run/reply-ledger.ts';
import { batchSk, groupPk, tallySk, type BatchItem, type TallyItem } from '#shared/runs-table.ts';
import { newRunId } from '#shared/ids.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { ackReply, resultReply } from '../helpers/factories.ts';
import { batchCountsOf, seedBatch } from '../helpers/run-seed.ts';
import { startDynamoFaultProxy, updateOf, type DynamoFaultProxy } from '../helpers/dynamo-fault-proxy.ts';

let test: TestStack;
let table: string;
let plainDb: DynamoDBClient;
let proxy: DynamoFaultProxy;
let proxiedDb: DynamoDBClient;
let runId: string;
let clock: number;

beforeAll(async () => {
  test = await startTestStack();
  table = test.stack.file.runsTable;
  const f = test.stack.file;
  plainDb = createPlainDynamoClient({ region: f.region, endpoints: f.endpoints, credentials: f.credentials });
  proxy = await startDynamoFaultProxy(f.endpoints.dynamodb!);
  proxiedDb = createPlainDynamoClient({
    region: f.region,
    endpoints: { dynamodb: proxy.url },
    credentials: f.credentials,
  });
}, 60_000);

afterAll(async () => {
  plainDb?.destroy();
  proxiedDb?.destroy();
  await proxy?.close();
  await test?.stop();
});

beforeEach(() => {
  runId = newRunId();
  clock = 5_000;
  proxy.fail('refused', () => false, 0);
  proxy.faults.length = 0;
});

const ledgerOn = (db: DynamoDBClient) => new ReplyLedger({ db, sfn: test.sfn, table, now: () => clock });
/** Hosts web-1…web-n, in groups of `groupSize` (web-1, web-2 in group 0 with groups of 2). */
const hosts = (n: number) => Array.from({ length: n }, (_, i) => `web-${i + 1}`);
const groupOf = (nodeId: string, groupSize: number) => Math.floor((Number(nodeId.slice(4)) - 1) / groupSize);
const ack = (nodeId: string, size = 2) =>
  ackReply({ runId, nodeId, identity: nodeId, group: groupOf(nodeId, size) });
const result = (nodeId: string, size = 2) =>
  resultReply({ runId, nodeId, identity: nodeId, group: groupOf(nodeId, size) });

async function batchItem(): Promise<BatchItem & { acksDoneAt?: number; resultsDoneAt?: number }> {
  const out = await test.db.send(
    new GetCommand({ TableName: table, Key: { runId, sk: batchSk(0) }, ConsistentRead: true }),
  );
  return out.Item as BatchItem;
}

const sorted = (set: Set<number> | undefined) => [...(set ?? [])].sort((a, b) => a - b);

/** The tally of dispatch group `group` of batch 0, read consistently. */
async function tallyItem(group: number): Promise<TallyItem> {
  const out = await test.db.send(
    new GetCommand({
      TableName: table,
      Key: { runId: groupPk(runId, 0, group), sk: tallySk(0, group) },
      ConsistentRead: true,
    }),
  );
  return out.Item as TallyItem;
}

describe('ReplyLedger: counts per dispatch group', () => {
  it('releases the acknowledgement wait only when every group of the batch has every answer', async () => {
    await seedBatch(test.db, table, runId, hosts(4), { groupSize: 2, dispatchedAt: 1_000 });
    const ledger = ledgerOn(plainDb);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');

    await ledger.record([ack('web-1'), ack('web-2'), ack('web-3')]);
    const midway = await batchItem();
    clock = 7_000;
    await ledger.record([ack('web-4')]);

    expect(sorted(midway.groupsAcked)).toEqual([0]);
    expect(midway.ackToken).toBe('token-acks');
    const after = await batchItem();
    expect(sorted(after.groupsAcked)).toEqual([0, 1]);
    expect(after.ackToken).toBeUndefined();
    expect(after.acksDoneAt).toBe(7_000);
    expect(await batchCountsOf(test.db, table, runId)).toMatchObject({ expected: 4, acked: 4, done: 0 });
  });

  it('releases the results wait when every group is done, not before', async () => {
    await seedBatch(test.db, table, runId, hosts(4), { groupSize: 2, dispatchedAt: 1_000 });
    const ledger = ledgerOn(plainDb);
    await ledger.record(hosts(4).map((id) => ack(id)));
    await ledger.registerWait(runId, 0, 'results', 'token-results');

    await ledger.record([result('web-1'), result('web-2'), result('web-3')]);
    const midway = await batchItem();
    await ledger.record([result('web-4')]);

    expect(sorted(midway.groupsDone)).toEqual([0]);
    expect(midway.resultToken).toBe('token-results');
    expect(sorted((await batchItem()).groupsDone)).toEqual([0, 1]);
    expect((await batchItem()).resultToken).toBeUndefined();
  });

  it('after an acknowledgement wait that timed out, releases the results wait once every host that acknowledged reported', async () => {
    // web-2 and web-4 never answer: neither group has every answer, so neither is ever "done".
    await seedBatch(test.db, table, runId, hosts(4), { groupSize: 2, dispatchedAt: 1_000 });
    const ledger = ledgerOn(plainDb);
    await ledger.record([ack('web-1'), ack('web-3')]);
    await ledger.registerWait(runId, 0, 'results', 'token-results');

    await ledger.record([result('web-1')]);
    const midway = await batchItem();
    await ledger.record([result('web-3')]);

    expect(midway.resultToken).toBe('token-results');
    const after = await batchItem();
    expect(after.resultToken).toBeUndefined();
    expect(after.groupsDone).toBeUndefined();
  });

  it('releases a results wait registered after every host that acknowledged has reported', async () => {
    await seedBatch(test.db, table, runId, hosts(4), { groupSize: 2, dispatchedAt: 1_000 });
    const ledger = ledgerOn(plainDb);
    await ledger.record([result('web-1'), result('web-4')]);

    await ledger.registerWait(runId, 0, 'results', 'token-results');

    expect((await batchItem()).resultToken).toBeUndefined();
  });

  it('releases the results wait when the result that completes it races the wait being registered', async () => {
    // web-2 and web-4 are silent; web-1 reported; web-3 acked. Its result is read against the
    // batch before the results wait registers, and counted after the wait looked at the tallies.
    await seedBatch(test.db, table, runId, hosts(4), { groupSize: 2, dispatchedAt: 1_000 });
    await ledgerOn(plainDb).record([ack('web-1'), result('web-1'), ack('web-3')]);
    let registered = false;
    const racing = {
      send: async (command: UpdateItemCommand) => {
        if (
          !registered &&
          command instanceof UpdateItemCommand &&
          command.input.Key?.sk?.S === tallySk(0, 1) &&
          command.input.Key?.runId?.S === groupPk(runId, 0, 1)
        ) {
          registered = true;
          await ledgerOn(plainDb).registerWait(runId, 0, 'results', 'token-results');
        }
        return plainDb.send(command);
      },
    } as unknown as DynamoDBClient;

    const outcomes = await ledgerOn(racing).record([result('web-3')]);

    expect(registered).toBe(true);
    expect(outcomes).toEqual(['recorded']);
    expect((await batchItem()).resultToken).toBeUndefined();
  });

  it('repairs a group record lost after its tally counted, when a reply is delivered again', async () => {
    // Every write of the batch item fails: the group's tally counts, the batch does not learn it.
    await seedBatch(test.db, table, runId, hosts(4), { groupSize: 2, dispatchedAt: 1_000 });
    await ledgerOn(plainDb).registerWait(runId, 0, 'acks', 'token-acks');
    await ledgerOn(plainDb).record([ack('web-3'), ack('web-4')]);
    proxy.fail('refused', updateOf('batch#'), Infinity);

    const first = await ledgerOn(proxiedDb).record([ack('web-1'), ack('web-2')]);
    const lost = await batchItem();
    proxy.fail('refused', () => false, 0);
    clock = 9_000;
    const again = await ledgerOn(proxiedDb).record([ack('web-2')]);

    expect(first).toEqual([
      { error: expect.objectContaining({ name: 'InternalServerError' }) },
      { error: expect.objectContaining({ name: 'InternalServerError' }) },
    ]);
    expect(sorted(lost.groupsAcked)).toEqual([1]);
    expect(again).toEqual(['duplicate']);
    const repaired = await batchItem();
    expect(sorted(repaired.groupsAcked)).toEqual([0, 1]);
    expect(repaired.acksDoneAt).toBe(9_000);
  });

  it('keeps the batch item small: its updates carry group indices, never node ids', async () => {
    // 1,200 EC2-length ids in groups of 500: the batch item holds three small numbers at most.
    const ids = Array.from({ length: 1_200 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    await seedBatch(test.db, table, runId, ids, { dispatchedAt: 1_000 });
    const ledger = ledgerOn(plainDb);
    const acks = ids.map((nodeId, i) =>
      ackReply({ runId, nodeId, identity: nodeId, group: Math.floor(i / 500) }),
    );
    for (let i = 0; i < acks.length; i += 100) await ledger.record(acks.slice(i, i + 100));

    const batch = await batchItem();
    expect(sorted(batch.groupsAcked)).toEqual([0, 1, 2]);
    expect(
      Buffer.byteLength(JSON.stringify({ ...batch, groupsAcked: sorted(batch.groupsAcked) })),
    ).toBeLessThan(400);
    const tally = await tallyItem(2);
    expect(tally).toMatchObject({ expected: 200, group: 2 });
    expect(tally.ackedBy?.size).toBe(200);
  });

  it('counts a host by its slot in its group: a full group of 500 makes a tally update cost a few write units', async () => {
    // Prepare: one group of 500 EC2-length ids, every host acknowledged and reported.
    const ids = Array.from({ length: 500 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    await seedBatch(test.db, table, runId, ids, { dispatchedAt: 1_000 });
    const ledger = ledgerOn(plainDb);
    const replies = ids.flatMap((nodeId) => [
      ackReply({ runId, nodeId, identity: nodeId, group: 0 }),
      resultReply({ runId, nodeId, identity: nodeId, group: 0 }),
    ]);
    for (let i = 0; i < replies.length; i += 100) await ledger.record(replies.slice(i, i + 100));

    // Assess: the sets hold the slots 0…499, not the node ids.
    const key = marshall({ runId: groupPk(runId, 0, 0), sk: tallySk(0, 0) });
    const tally = await tallyItem(0);
    const all = Array.from({ length: 500 }, (_, i) => i);
    expect([...(tally.ackedBy ?? [])].sort((a, b) => Number(a) - Number(b))).toEqual(all);
    expect([...(tally.doneBy ?? [])].sort((a, b) => Number(a) - Number(b))).toEqual(all);
    // One more counting update on the full tally (a redelivered result) is billed at the item's
    // size: a few units with slots, where 1,000 node ids of 19 bytes would cost about 20.
    const out = await plainDb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key,
        UpdateExpression: 'ADD #d :m',
        ExpressionAttributeNames: { '#d': 'doneBy' },
        ExpressionAttributeValues: { ':m': { NS: ['499'] } },
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    expect(out.ConsumedCapacity?.CapacityUnits).toBeGreaterThan(0);
    expect(out.ConsumedCapacity?.CapacityUnits).toBeLessThanOrEqual(4);
  });

  it('counts by node id on a run planned before node items had slots', async () => {
    // Prepare: a run whose node items carry no slot, as Plan wrote them before.
    await seedBatch(test.db, table, runId, hosts(2), { groupSize: 2, dispatchedAt: 1_000 });
    for (const nodeId of hosts(2)) {
      await plainDb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: marshall({ runId: groupPk(runId, 0, 0), sk: `node#${nodeId}` }),
          UpdateExpression: 'REMOVE #s',
          ExpressionAttributeNames: { '#s': 'slot' },
        }),
      );
    }
    const ledger = ledgerOn(plainDb);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');

    // Act
    await ledger.record([ack('web-1'), ack('web-2'), ack('web-2')]);

    // Assess: node ids counted, once each, and the wait released.
    const tally = await tallyItem(0);
    expect([...(tally.ackedBy ?? [])].sort()).toEqual(['web-1', 'web-2']);
    expect(sorted((await batchItem()).groupsAcked)).toEqual([0]);
  });
});
