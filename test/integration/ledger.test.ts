import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { ReplyLedger } from '#functions/run/reply-ledger.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { batchSk, groupPk, nodeSk, tallySk, type BatchItem, type NodeRunItem } from '#shared/runs-table.ts';
import { newRunId } from '#shared/ids.ts';
import { RESULT_OUTPUT_BUDGET_BYTES } from '#shared/output-fit.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { ackReply, rejectedReply, resultReply } from '../helpers/factories.ts';
import { batchCountsOf, seedBatch } from '../helpers/run-seed.ts';
import { startDynamoFaultProxy, updateOf, type DynamoFaultProxy } from '../helpers/dynamo-fault-proxy.ts';

let test: TestStack;
let table: string;
let clock: number;
let ledger: ReplyLedger;
let runId: string;
/** The ledger's own kind of client: the plain one, values marshalled by the ledger. */
let plainDb: DynamoDBClient;

beforeAll(async () => {
  test = await startTestStack();
  table = test.stack.file.runsTable;
  const f = test.stack.file;
  plainDb = createPlainDynamoClient({ region: f.region, endpoints: f.endpoints, credentials: f.credentials });
});

afterAll(async () => {
  plainDb?.destroy();
  await test?.stop();
});

beforeEach(() => {
  clock = 5_000;
  ledger = ledgerWith(plainDb);
  runId = newRunId();
});

function ledgerWith(db: DynamoDBClient): ReplyLedger {
  return new ReplyLedger({ db, sfn: test.sfn, table, now: () => clock });
}

/** Writes a dispatched batch of `runId` as Plan does: batch, group, tally and pending node items. */
async function seedRun(nodeIds: readonly string[], batch = 0, groupSize = 500): Promise<void> {
  await seedBatch(test.db, table, runId, nodeIds, { batch, groupSize, dispatchedAt: 1_000 });
}

async function batchItem(batch = 0): Promise<BatchItem & { acksDoneAt?: number; resultsDoneAt?: number }> {
  const out = await test.db.send(
    new GetCommand({ TableName: table, Key: { runId, sk: batchSk(batch) }, ConsistentRead: true }),
  );
  if (!out.Item) throw new Error(`no batch ${batch} in run ${runId}`);
  return out.Item as BatchItem;
}

async function nodeItem(nodeId: string, batch = 0): Promise<(NodeRunItem & { lateAs?: string }) | undefined> {
  const out = await test.db.send(
    new GetCommand({
      TableName: table,
      Key: { runId: groupPk(runId, batch, 0), sk: nodeSk(nodeId) },
      ConsistentRead: true,
    }),
  );
  return out.Item as NodeRunItem | undefined;
}

async function counters(batch = 0) {
  const { acked, rejected, done, unreachable } = await batchCountsOf(test.db, table, runId, batch);
  return { acked, rejected, done, unreachable };
}

/** Replies as agents send them: echoing the dispatch group of their request (0 unless told). */
const ack = (nodeId = 'web-1', group = 0) => ackReply({ runId, nodeId, identity: nodeId, group });
const result = (nodeId = 'web-1', overrides: Parameters<typeof resultReply>[0] = {}) =>
  resultReply({ runId, nodeId, identity: nodeId, group: 0, ...overrides });

describe('ReplyLedger', () => {
  it('records an ack: the node is acked and the batch counts one ack', async () => {
    await seedRun(['web-1', 'web-2']);

    const outcomes = await ledger.record([ack('web-1')]);

    expect(outcomes).toEqual(['recorded']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 0, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({ status: 'acked', ackedAt: 5_000 });
    expect(await nodeItem('web-2')).toMatchObject({ status: 'pending' });
  });

  it('counts a duplicated ack once', async () => {
    // Prepare
    await seedRun(['web-1']);
    await ledger.record([ack()]);

    // Act
    const outcomes = await ledger.record([ack()]);

    // Assess
    expect(outcomes).toEqual(['duplicate']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 0, unreachable: 0 });
  });

  it('counts an ack delivered twice in the same batch of replies once', async () => {
    await seedRun(['web-1']);

    const outcomes = await ledger.record([ack(), ack()]);

    // Both writes go out at once: either copy may be the one recorded.
    expect([...outcomes].sort()).toEqual(['duplicate', 'recorded']);
    expect((await counters()).acked).toBe(1);
  });

  it('counts acks of several nodes in one batch of replies', async () => {
    await seedRun(['web-1', 'web-2', 'web-3']);

    await ledger.record([ack('web-1'), ack('web-3')]);

    expect((await counters()).acked).toBe(2);
  });

  it('records a result after its ack: the node has its outcome and output, the batch counts it done', async () => {
    // Prepare
    await seedRun(['web-1']);
    await ledger.record([ack()]);
    clock = 6_000;

    // Act
    const outcomes = await ledger.record([
      result('web-1', { exitCode: 3, stderr: { text: 'boom\n', bytes: 5, truncated: false } }),
    ]);

    // Assess
    expect(outcomes).toEqual(['recorded']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 1, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({
      status: 'failed',
      exitCode: 3,
      stderr: { text: 'boom\n', bytes: 5, truncated: false },
      startedAt: 100,
      endedAt: 150,
      ackedAt: 5_000,
      resultAt: 6_000,
    });
  });

  it('records a result too large for a DynamoDB item with its output cut to fit, not refused', async () => {
    // Prepare: 2 x 300 KB of output, as an agent that does not fit its results would send it.
    await seedRun(['web-1']);
    const stdout = 'o'.repeat(300_000) + 'END';
    const stderr = 'e'.repeat(300_000);

    // Act
    const outcomes = await ledger.record([
      result('web-1', {
        stdout: { text: stdout, bytes: stdout.length, truncated: false },
        stderr: { text: stderr, bytes: stderr.length, truncated: false },
      }),
    ]);

    // Assess
    expect(outcomes).toEqual(['recorded']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 1, unreachable: 0 });
    const node = await nodeItem('web-1');
    expect(node).toMatchObject({
      status: 'succeeded',
      stdout: { bytes: stdout.length, truncated: true },
      stderr: { bytes: stderr.length, truncated: true },
    });
    expect(node!.stdout!.text.endsWith('oooEND')).toBe(true);
    expect(node!.stdout!.text.length + node!.stderr!.text.length).toBeLessThanOrEqual(
      RESULT_OUTPUT_BUDGET_BYTES,
    );
  });

  it('counts a duplicated result once', async () => {
    // Prepare
    await seedRun(['web-1']);
    await ledger.record([ack()]);
    await ledger.record([result()]);

    // Act
    const outcomes = await ledger.record([result('web-1', { exitCode: 1 })]);

    // Assess
    expect(outcomes).toEqual(['duplicate']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 1, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });

  it('counts a result that overtakes its ack as both the ack and done, and the late ack as nothing', async () => {
    // Prepare
    await seedRun(['web-1']);

    // Act
    const first = await ledger.record([result()]);
    const second = await ledger.record([ack()]);

    // Assess
    expect(first).toEqual(['recorded']);
    expect(second).toEqual(['duplicate']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 1, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({ status: 'succeeded' });
  });

  it('counts a rejected reply as rejected, not as an ack', async () => {
    await seedRun(['web-1']);

    const outcomes = await ledger.record([
      rejectedReply({ runId, reason: 'expired at 2024-01-01T00:00:00.000Z' }),
    ]);

    expect(outcomes).toEqual(['recorded']);
    expect(await counters()).toEqual({ acked: 0, rejected: 1, done: 0, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({
      status: 'rejected',
      reason: 'expired at 2024-01-01T00:00:00.000Z',
      resultAt: 5_000,
    });
  });

  it('treats a reply from a node that is not in the run as unknown and changes no counter', async () => {
    // Prepare
    await seedRun(['web-1']);

    // Act
    const outcomes = await ledger.record([ack('intruder'), result('intruder')]);

    // Assess
    expect(outcomes).toEqual(['unknown', 'unknown']);
    expect(await counters()).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
    expect(await nodeItem('intruder')).toBeUndefined();
  });

  it('records a result after the batch gave up on a silent node as late, with its output, counting nothing', async () => {
    // Prepare
    await seedRun(['web-1']);
    expect(
      await new RunStore(test.db, table).closeNode(groupPk(runId, 0, 0), 'web-1', 'pending', 'no_response'),
    ).toBe(true);

    // Act
    const outcomes = await ledger.record([
      result('web-1', { stdout: { text: 'finally\n', bytes: 8, truncated: false } }),
    ]);

    // Assess
    expect(outcomes).toEqual(['late']);
    expect(await counters()).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({
      status: 'late',
      lateAs: 'no_response',
      closed: true,
      exitCode: 0,
      stdout: { text: 'finally\n', bytes: 8, truncated: false },
      resultAt: 5_000,
    });
  });

  it('records a result after the batch timed out an acked node as late', async () => {
    // Prepare
    await seedRun(['web-1']);
    await ledger.record([ack()]);
    await new RunStore(test.db, table).closeNode(groupPk(runId, 0, 0), 'web-1', 'acked', 'timed_out');

    // Act
    const outcomes = await ledger.record([result()]);

    // Assess
    expect(outcomes).toEqual(['late']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 0, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({ status: 'late', lateAs: 'timed_out' });
  });

  it('records an ack after the batch gave up on a silent node as late, counting nothing', async () => {
    await seedRun(['web-1']);
    await new RunStore(test.db, table).closeNode(groupPk(runId, 0, 0), 'web-1', 'pending', 'no_response');

    const outcomes = await ledger.record([ack()]);

    expect(outcomes).toEqual(['late']);
    expect(await counters()).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
    expect(await nodeItem('web-1')).toMatchObject({ status: 'late', lateAs: 'no_response' });
  });

  it('records the cancelled result of a host a cancel gave up on as its outcome, counting nothing', async () => {
    // Prepare: the cancel closed web-1 while its ack was still delayed; web-2 finished before it.
    await seedRun(['web-1', 'web-2']);
    const store = new RunStore(test.db, table);
    await store.closeNode(groupPk(runId, 0, 0), 'web-1', 'pending', 'cancelled');
    await store.closeNode(groupPk(runId, 0, 0), 'web-2', 'pending', 'cancelled');
    const killed = result('web-1', {
      exitCode: null,
      signal: 'SIGTERM',
      cancelled: true,
      error: 'cancelled',
    });

    // Act
    const outcomes = await ledger.record([killed, result('web-2')]);

    // Assess: the kill is web-1's outcome; web-2's success came too late to count.
    expect(outcomes).toEqual(['recorded', 'late']);
    expect(await nodeItem('web-1')).toMatchObject({ status: 'cancelled', signal: 'SIGTERM', closed: true });
    expect((await nodeItem('web-1'))?.lateAs).toBeUndefined();
    expect(await nodeItem('web-2')).toMatchObject({ status: 'late', lateAs: 'cancelled' });
    expect(await counters()).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
  });

  it('keeps why the run gave up on a host through its late ack and late result', async () => {
    // Prepare
    await seedRun(['web-1']);
    await new RunStore(test.db, table).closeNode(groupPk(runId, 0, 0), 'web-1', 'pending', 'no_response');
    await ledger.record([ack()]);

    // Act
    const outcomes = await ledger.record([result()]);

    // Assess
    expect(outcomes).toEqual(['late']);
    expect(await nodeItem('web-1')).toMatchObject({ status: 'late', lateAs: 'no_response', exitCode: 0 });
  });

  it('keeps the first late result and treats a copy of it as a duplicate', async () => {
    // Prepare
    await seedRun(['web-1']);
    await new RunStore(test.db, table).closeNode(groupPk(runId, 0, 0), 'web-1', 'pending', 'no_response');
    await ledger.record([result('web-1', { exitCode: 0 })]);

    // Act
    const outcomes = await ledger.record([result('web-1', { exitCode: 9 })]);

    // Assess
    expect(outcomes).toEqual(['duplicate']);
    expect(await nodeItem('web-1')).toMatchObject({ status: 'late', exitCode: 0 });
  });

  it('registers a wait and leaves the token while answers are missing', async () => {
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-1')]);

    await ledger.registerWait(runId, 0, 'acks', 'token-waiting');

    const batch = await batchItem();
    expect(batch.ackToken).toBe('token-waiting');
    expect(batch.acksDoneAt).toBeUndefined();
  });

  it('claims the token of a wait registered after every answer is in, even if the execution is gone', async () => {
    // Prepare: every host acked before the wait registered; the token names no live task, so
    // the local Step Functions answers SendTaskSuccess with TaskTimedOut.
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-1'), rejectedReply({ runId, nodeId: 'web-2', identity: 'web-2' })]);
    clock = 7_000;

    // Act
    await ledger.registerWait(runId, 0, 'acks', 'token-of-a-finished-execution');

    // Assess
    const batch = await batchItem();
    expect(batch.ackToken).toBeUndefined();
    expect(batch.acksDoneAt).toBe(7_000);
  });

  it('releases a registered wait when the last answer arrives', async () => {
    // Prepare
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-1')]);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');
    clock = 8_000;

    // Act
    await ledger.record([ack('web-2')]);

    // Assess
    const batch = await batchItem();
    expect(batch.ackToken).toBeUndefined();
    expect(batch.acksDoneAt).toBe(8_000);
  });

  it('claims the results token once every acknowledged host has sent its result', async () => {
    // Prepare
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-1'), ack('web-2'), result('web-1')]);
    await ledger.registerWait(runId, 0, 'results', 'token-results');
    expect((await batchItem()).resultToken).toBe('token-results');
    clock = 9_000;

    // Act
    await ledger.record([result('web-2', { timedOut: true, exitCode: null, signal: 'SIGKILL' })]);

    // Assess
    const batch = await batchItem();
    expect(batch.resultToken).toBeUndefined();
    expect(batch.resultsDoneAt).toBe(9_000);
    expect(await nodeItem('web-2')).toMatchObject({ status: 'timed_out', timedOut: true });
  });

  it('counts ten concurrent copies of the same ack exactly once', async () => {
    // Prepare
    await seedRun(['web-1', 'web-2']);

    // Act
    const outcomes = (
      await Promise.all(Array.from({ length: 10 }, () => ledger.record([ack('web-1')])))
    ).flat();

    // Assess
    expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(9);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 0, unreachable: 0 });
  });

  it('counts concurrent copies of an ack and a result once each', async () => {
    await seedRun(['web-1']);

    await Promise.all([
      ...Array.from({ length: 5 }, () => ledger.record([ack()])),
      ...Array.from({ length: 5 }, () => ledger.record([result()])),
    ]);

    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 1, unreachable: 0 });
  });

  it('counts the other replies of a batch when one write fails, and that reply once when it comes again', async () => {
    // Prepare: the first write for web-2 fails as a throttled request would.
    await seedRun(['web-1', 'web-2', 'web-3']);
    await ledger.registerWait(runId, 0, 'results', 'token-results');
    let failures = 0;
    const flakyDb = {
      send: (command: UpdateItemCommand) => {
        if (command.input.Key?.sk?.S === nodeSk('web-2') && failures++ === 0) {
          return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
        }
        return plainDb.send(command);
      },
    } as unknown as DynamoDBClient;
    const flaky = ledgerWith(flakyDb);

    // Act
    const first = await flaky.record([result('web-1'), result('web-2'), result('web-3')]);
    const countedFirst = await counters();
    const again = await flaky.record([result('web-2')]);

    // Assess: web-2 came back as an error (to be redelivered); the others counted at once.
    expect(first[0]).toBe('recorded');
    expect(first[1]).toMatchObject({ error: { name: 'ThrottlingException' } });
    expect(first[2]).toBe('recorded');
    expect(countedFirst).toEqual({ acked: 2, rejected: 0, done: 2, unreachable: 0 });
    expect(again).toEqual(['recorded']);
    expect(await counters()).toEqual({ acked: 3, rejected: 0, done: 3, unreachable: 0 });
    expect((await batchItem()).resultToken).toBeUndefined();
  });

  it('keeps the token of a wait whose release failed, and releases it when a reply comes again', async () => {
    // Prepare: Step Functions refuses the first SendTaskSuccess as an unavailable service would.
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-1')]);
    let refusals = 0;
    const flakySfn = {
      send: (command: SendTaskSuccessCommand) =>
        refusals++ === 0
          ? Promise.reject(Object.assign(new Error('try again'), { name: 'ServiceUnavailable' }))
          : test.sfn.send(command),
    } as unknown as SFNClient;
    const flaky = new ReplyLedger({ db: plainDb, sfn: flakySfn, table, now: () => clock });
    await flaky.registerWait(runId, 0, 'acks', 'token-acks');
    clock = 8_000;

    // Act
    const first = await flaky.record([ack('web-2')]);
    const tokenAfterFailure = (await batchItem()).ackToken;
    const again = await flaky.record([ack('web-2')]);

    // Assess
    expect(first).toEqual([{ error: expect.objectContaining({ name: 'ServiceUnavailable' }) }]);
    expect(tokenAfterFailure).toBe('token-acks');
    expect(again).toEqual(['duplicate']);
    const batch = await batchItem();
    expect(batch.ackToken).toBeUndefined();
    expect(batch.acksDoneAt).toBe(8_000);
    expect(refusals).toBe(2);
  });

  it('moves a node with one conditional write whichever state a result finds it in', async () => {
    // Prepare: count the writes the ledger makes; web-1 has its ack recorded, web-2 has not.
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-1')]);
    const writes: string[] = [];
    const countingDb = {
      send: (command: UpdateItemCommand) => {
        if (command instanceof UpdateItemCommand) writes.push(command.input.Key?.sk?.S ?? '?');
        return plainDb.send(command);
      },
    } as unknown as DynamoDBClient;

    // Act
    const outcomes = await ledgerWith(countingDb).record([result('web-1'), result('web-2')]);

    // Assess: one write per node, one for the group's markers, and one recording on the batch that
    // the group has every answer; nothing retried.
    expect(outcomes).toEqual(['recorded', 'recorded']);
    expect(writes.sort()).toEqual([tallySk(0, 0), batchSk(0), nodeSk('web-1'), nodeSk('web-2')].sort());
    expect(await counters()).toEqual({ acked: 2, rejected: 0, done: 2, unreachable: 0 });
  });
});

describe('ReplyLedger counting under faults', () => {
  let proxy: DynamoFaultProxy;
  let proxiedDb: DynamoDBClient;

  beforeAll(async () => {
    const f = test.stack.file;
    proxy = await startDynamoFaultProxy(f.endpoints.dynamodb!);
    proxiedDb = createPlainDynamoClient({
      region: f.region,
      endpoints: { dynamodb: proxy.url },
      credentials: f.credentials,
    });
  });

  afterAll(async () => {
    proxiedDb?.destroy();
    await proxy?.close();
  });

  beforeEach(() => {
    proxy.fail('applied', () => false, 0);
    proxy.faults.length = 0;
  });

  it('counts once an ack whose counting write applied, answered 500 and was retried by the SDK', async () => {
    // Prepare: the acks wait of two hosts is registered; only web-1 answers.
    await seedRun(['web-1', 'web-2']);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');
    proxy.fail('applied', updateOf('tally#'), 1);

    // Act
    const outcomes = await ledgerWith(proxiedDb).record([ack('web-1')]);

    // Assess: the SDK retried the applied write, and it still counts one ack; web-2 is awaited.
    expect(proxy.faults).toHaveLength(1);
    expect(outcomes).toEqual(['recorded']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 0, unreachable: 0 });
    expect((await batchItem()).ackToken).toBe('token-acks');
  });

  it('counts once a result whose counting write applied, answered 500 and was retried, while another host runs', async () => {
    // Prepare: both hosts acked, the results wait registered, web-1 reports.
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-1'), ack('web-2')]);
    await ledger.registerWait(runId, 0, 'results', 'token-results');
    proxy.fail('applied', updateOf('tally#'), 2);

    // Act
    const outcomes = await ledgerWith(proxiedDb).record([result('web-1')]);

    // Assess: done is 1 of 2, so the wait still waits for web-2.
    expect(proxy.faults).toHaveLength(2);
    expect(outcomes).toEqual(['recorded']);
    expect(await counters()).toEqual({ acked: 2, rejected: 0, done: 1, unreachable: 0 });
    expect((await batchItem()).resultToken).toBe('token-results');
    expect(await nodeItem('web-2')).toMatchObject({ status: 'acked' });
  });

  it('repairs a count whose write failed after every retry when the reply is delivered again', async () => {
    // Prepare: every counting write fails, whatever the SDK retries.
    await seedRun(['web-1']);
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');
    proxy.fail('refused', updateOf('tally#'), Infinity);

    // Act
    const first = await ledgerWith(proxiedDb).record([ack('web-1')]);
    const countedFirst = await counters();
    proxy.fail('refused', () => false, 0);
    clock = 9_000;
    const again = await ledgerWith(proxiedDb).record([ack('web-1')]);

    // Assess: the first delivery is handed back for redelivery, which counts it and releases the wait.
    expect(first).toEqual([{ error: expect.objectContaining({ name: 'InternalServerError' }) }]);
    expect(await nodeItem('web-1')).toMatchObject({ status: 'acked' });
    expect(countedFirst).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
    expect(again).toEqual(['duplicate']);
    expect(await counters()).toEqual({ acked: 1, rejected: 0, done: 0, unreachable: 0 });
    expect(await batchItem()).toMatchObject({ acksDoneAt: 9_000 });
  });

  it('repairs the counts of a result recorded by an ingest that crashed before counting it', async () => {
    // Prepare: the node has its outcome, the batch no marker (the process died between the writes).
    await seedRun(['web-1', 'web-2']);
    await ledger.record([ack('web-2')]);
    await test.db.send(
      new UpdateCommand({
        TableName: table,
        Key: { runId: groupPk(runId, 0, 0), sk: nodeSk('web-1') },
        UpdateExpression: 'SET #s = :s, exitCode = :zero',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'succeeded', ':zero': 0 },
      }),
    );
    await ledger.registerWait(runId, 0, 'acks', 'token-acks');

    // Act: SQS delivers the result again.
    const outcomes = await ledger.record([result('web-1')]);

    // Assess
    expect(outcomes).toEqual(['duplicate']);
    expect(await counters()).toEqual({ acked: 2, rejected: 0, done: 1, unreachable: 0 });
    expect((await batchItem()).ackToken).toBeUndefined();
  });

  it('does not count a result naming another batch than its node', async () => {
    // Prepare: web-1 is in batch 0; batch 1 holds web-2; both batches are dispatched.
    await seedRun(['web-1']);
    await seedRun(['web-2'], 1);

    // Act
    const outcomes = await ledger.record([{ ...result('web-1'), batch: 1 }]);

    // Assess
    expect(outcomes).toEqual(['unknown']);
    expect(await nodeItem('web-1')).toMatchObject({ status: 'pending' });
    expect(await counters(0)).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
    expect(await counters(1)).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
  });

  it('does not let a reply move a node of a batch that was never dispatched', async () => {
    // Prepare: batch 1 is planned but not yet sent.
    await seedRun(['web-1']);
    await seedRun(['web-2'], 1);
    await test.db.send(
      new UpdateCommand({
        TableName: table,
        Key: { runId, sk: batchSk(1) },
        UpdateExpression: 'REMOVE dispatchedAt',
      }),
    );

    // Act
    const outcomes = await ledger.record([result('web-2', { batch: 1 }), ack('web-1')]);

    // Assess
    expect(outcomes).toEqual(['unknown', 'recorded']);
    expect(await nodeItem('web-2', 1)).toMatchObject({ status: 'pending' });
    expect(await counters(1)).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 0 });
  });

  it('counts an unreachable inbox once when dispatch is retried, and repairs it if lost', async () => {
    // Prepare: the first counting write for the unreachable host fails after applying nothing.
    await seedRun(['web-1', 'web-2']);
    const flaky = ledgerWith(proxiedDb);
    proxy.fail('refused', updateOf('tally#'), Infinity);
    await expect(
      flaky.markUnreachable(runId, { batch: 0, group: 0 }, { nodeId: 'web-2', slot: 1 }, 'inbox unreachable'),
    ).rejects.toThrow();
    proxy.fail('refused', () => false, 0);

    // Act: the dispatch step's Retry runs it again, twice.
    await flaky.markUnreachable(
      runId,
      { batch: 0, group: 0 },
      { nodeId: 'web-2', slot: 1 },
      'inbox unreachable',
    );
    await flaky.markUnreachable(
      runId,
      { batch: 0, group: 0 },
      { nodeId: 'web-2', slot: 1 },
      'inbox unreachable',
    );

    // Assess
    expect(await counters()).toEqual({ acked: 0, rejected: 0, done: 0, unreachable: 1 });
    expect(await nodeItem('web-2')).toMatchObject({ status: 'unreachable', closed: true });
  });
});
