/**
 * The ledger's memory of dispatched batches: a first delivery's replies are counted against the
 * batch as this container saw it (no read of the batch item), a redelivery reads it afresh (and
 * repairs a release that was lost), and a batch not yet dispatched is read until it is. And its
 * tally writes: concurrent deliveries share them, counting exactly. Against the local DynamoDB,
 * with the calls of the ledger's client counted.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { ReplyLedger } from '#functions/run/reply-ledger.ts';
import { batchSk, groupPk, tallySk, type BatchItem } from '#shared/runs-table.ts';
import { newRunId } from '#shared/ids.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { ackReply, resultReply } from '../helpers/factories.ts';
import { batchCountsOf, seedBatch } from '../helpers/run-seed.ts';

let test: TestStack;
let table: string;
let plainDb: DynamoDBClient;
let runId: string;
let clock: number;
/** Reads of batch items, and writes of tallies, the ledger's client made. */
let batchReads: number;
let tallyWrites: number;
/** Queries (the group items, for replies that name no group). */
let queries: number;

beforeAll(async () => {
  test = await startTestStack();
  table = test.stack.file.runsTable;
  const f = test.stack.file;
  plainDb = createPlainDynamoClient({ region: f.region, endpoints: f.endpoints, credentials: f.credentials });
  const send = plainDb.send.bind(plainDb);
  plainDb.send = ((command: { input: { Key?: { sk?: { S?: string } } }; constructor: { name: string } }) => {
    const sk = command.input.Key?.sk?.S ?? '';
    if (command.constructor.name === 'GetItemCommand' && sk.startsWith('batch#')) batchReads++;
    if (command.constructor.name === 'UpdateItemCommand' && sk.startsWith('tally#')) tallyWrites++;
    if (command.constructor.name === 'QueryCommand') queries++;
    return (send as (c: unknown) => Promise<unknown>)(command);
  }) as typeof plainDb.send;
}, 60_000);

afterAll(async () => {
  plainDb?.destroy();
  await test?.stop();
});

beforeEach(() => {
  runId = newRunId();
  clock = 5_000;
  batchReads = 0;
  tallyWrites = 0;
  queries = 0;
});

const ledgerWith = (sfn: SFNClient = test.sfn) =>
  new ReplyLedger({ db: plainDb, sfn, table, now: () => clock });
/** web-1…web-4 in groups of 2: web-1, web-2 in group 0. */
const ack = (n: number) =>
  ackReply({ runId, nodeId: `web-${n}`, identity: `web-${n}`, group: n <= 2 ? 0 : 1 });
const FIRST = [true];
const AGAIN = [false];

async function seed(dispatched = true): Promise<void> {
  const hosts = ['web-1', 'web-2', 'web-3', 'web-4'];
  await seedBatch(test.db, table, runId, hosts, {
    groupSize: 2,
    ...(dispatched ? { dispatchedAt: 1_000 } : {}),
  });
}

async function batchItem(): Promise<BatchItem & { acksDoneAt?: number }> {
  const out = await test.db.send(
    new GetCommand({ TableName: table, Key: { runId, sk: batchSk(0) }, ConsistentRead: true }),
  );
  return out.Item as BatchItem;
}

describe('ReplyLedger: what it remembers of a dispatched batch', () => {
  it('reads the batch item once for first deliveries, and again for a redelivery or a reply of unknown provenance', async () => {
    await seed();
    const ledger = ledgerWith();

    expect(await ledger.record([ack(1)], [], FIRST)).toEqual(['recorded']);
    expect(await ledger.record([ack(2)], [], FIRST)).toEqual(['recorded']);
    expect(batchReads).toBe(1);
    expect(await ledger.record([ack(3)], [], AGAIN)).toEqual(['recorded']);
    expect(batchReads).toBe(2);
    expect(await ledger.record([ack(4)])).toEqual(['recorded']);
    expect(batchReads).toBe(3);
    // A delivery mixing a first delivery and a redelivery reads it too.
    await ledger.record([ack(1), ack(2)], [], [true, false]);
    expect(batchReads).toBe(4);
  });

  it('reads a batch not yet dispatched on every delivery, and counts once it is', async () => {
    await seed(false);
    const ledger = ledgerWith();

    expect(await ledger.record([ack(1)], [], FIRST)).toEqual(['unknown']);
    await test.db.send(
      new UpdateCommand({
        TableName: table,
        Key: { runId, sk: batchSk(0) },
        UpdateExpression: 'SET dispatchedAt = :at',
        ExpressionAttributeValues: { ':at': 2_000 },
      }),
    );
    expect(await ledger.record([ack(1)], [], FIRST)).toEqual(['recorded']);
    expect(batchReads).toBe(2);
  });

  it('releases a wait registered after it remembered the batch, when first deliveries complete it', async () => {
    await seed();
    const ledger = ledgerWith();
    await ledger.record([ack(1), ack(3)], [], [true, true]);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');
    clock = 7_000;

    await ledger.record([ack(2)], [], FIRST);
    const halfway = await batchItem();
    await ledger.record([ack(4)], [], FIRST);

    expect(halfway.ackToken).toBe('token-acks');
    const batch = await batchItem();
    expect([...(batch.groupsAcked ?? [])].sort()).toEqual([0, 1]);
    expect(batch.ackToken).toBeUndefined();
    expect(batch.acksDoneAt).toBe(7_000);
    expect(batchReads).toBe(1);
  });

  it('repairs a release that failed at the next reply, a first delivery too: a set holds every group and no release was seen', async () => {
    await seed();
    let refusals = 0;
    const flakySfn = {
      send: (command: SendTaskSuccessCommand) =>
        refusals++ === 0
          ? Promise.reject(Object.assign(new Error('try again'), { name: 'ServiceUnavailable' }))
          : test.sfn.send(command),
    } as unknown as SFNClient;
    const ledger = ledgerWith(flakySfn);
    await ledger.record([ack(1), ack(2), ack(3)], [], [true, true, true]);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');
    clock = 8_000;

    const first = await ledger.record([ack(4)], [], FIRST);
    const afterFailure = await batchItem();
    const readsBefore = batchReads;
    // Another host's duplicate, a first delivery of its own message: the batch as remembered
    // holds every group acked, and this container saw no release complete, so it reads afresh.
    const duplicate = await ledger.record([ack(3)], [], FIRST);
    const again = await ledger.record([ack(4)], [], AGAIN);

    expect(first).toEqual([{ error: expect.objectContaining({ name: 'ServiceUnavailable' }) }]);
    expect(afterFailure.ackToken).toBe('token-acks');
    expect(duplicate).toEqual(['duplicate']);
    expect(again).toEqual(['duplicate']);
    expect(batchReads).toBe(readsBefore + 2);
    const batch = await batchItem();
    expect(batch.ackToken).toBeUndefined();
    expect(batch.acksDoneAt).toBe(8_000);
    expect(refusals).toBe(2);
  });

  it('reads nothing more once it released a wait itself, nor once its own batch write shows a wait released elsewhere', async () => {
    await seed();
    const ledger = ledgerWith();
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');
    await ledger.record([ack(1), ack(2), ack(3), ack(4)], [], [true, true, true, true]);
    const result = (n: number) =>
      resultReply({ runId, nodeId: `web-${n}`, identity: `web-${n}`, group: n <= 2 ? 0 : 1 });

    const readsAfterAcks = batchReads;
    await ledger.record([result(1)], [], FIRST);
    await ledger.record([result(3)], [], FIRST);
    const readsHere = batchReads - readsAfterAcks;
    // Another container remembered the batch before the release: its next counting write of a
    // group it had not seen complete answers with the batch as it is, released.
    const other = ledgerWith();
    const otherRun = runId;
    runId = newRunId();
    await seed();
    await other.record([ack(1)], [], FIRST);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks-2');
    await ledger.record([ack(2), ack(3), ack(4)], [], [true, true, true]);
    const before = batchReads;
    await other.record([ack(1)], [], FIRST);
    await other.record([ack(2)], [], FIRST);

    expect(readsAfterAcks).toBe(1);
    expect(readsHere).toBe(0);
    expect(otherRun).not.toBe(runId);
    expect((await batchItem()).acksDoneAt).toBe(5_000);
    expect(batchReads - before).toBe(0);
  });
});

describe('ReplyLedger: concurrent deliveries share tally writes', () => {
  it('counts 40 hosts delivered 10 at a time, 4 deliveries at once, exactly, in fewer tally writes than deliveries', async () => {
    const nodeIds = Array.from({ length: 40 }, (_, i) => `host-${i}`);
    await seedBatch(test.db, table, runId, nodeIds, { groupSize: 40, dispatchedAt: 1_000 });
    const ledger = ledgerWith();
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');
    const acks = nodeIds.map((nodeId) => ackReply({ runId, nodeId, identity: nodeId, group: 0 }));

    const outcomes = await Promise.all(
      [0, 10, 20, 30].map((k) => ledger.record(acks.slice(k, k + 10), [], Array(10).fill(true))),
    );
    // Every copy again, at once: duplicates count nothing.
    const again = await Promise.all(
      [0, 10, 20, 30].map((k) => ledger.record(acks.slice(k, k + 10), [], Array(10).fill(true))),
    );

    expect(outcomes.flat()).toEqual(Array(40).fill('recorded'));
    expect(again.flat()).toEqual(Array(40).fill('duplicate'));
    expect(tallyWrites).toBeLessThan(8);
    const tally = await test.db.send(
      new GetCommand({
        TableName: table,
        Key: { runId: groupPk(runId, 0, 0), sk: tallySk(0, 0) },
        ConsistentRead: true,
      }),
    );
    expect((tally.Item?.ackedBy as Set<number>).size).toBe(40);
    expect((await batchItem()).acksDoneAt).toBe(5_000);
  });
});

describe('ReplyLedger: replies that name no group (an agent restarted, or older than groups)', () => {
  it("finds each one's group with one read of the batch's group items, and none for a host not in the batch", async () => {
    await seed();
    const ledger = ledgerWith();
    const bare = (n: number) => ackReply({ runId, nodeId: `web-${n}`, identity: `web-${n}` });

    const outcomes = await ledger.record([bare(1), bare(4)], [], [true, true]);
    const later = await ledger.record([bare(3), bare(9)], [], [true, true]);

    expect(outcomes).toEqual(['recorded', 'recorded']);
    expect(later).toEqual(['recorded', 'unknown']);
    expect(queries).toBe(1);
    const counts = await batchCountsOf(test.db, table, runId, 0);
    expect(counts.acked).toBe(3);
  });
});
