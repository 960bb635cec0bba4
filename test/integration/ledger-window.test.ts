/**
 * An answer is judged by when it reached SQS (its SentTimestamp), not by when ingest got to it:
 * one sent within the acknowledgement window but recorded after CloseBatch gave up on its host is
 * counted; one sent after the window is `late`; and once Finish has counted a host (sealed it),
 * no reply changes what the summary counted it as. Real CloseBatch and Finish steps, dynalite
 * behind the real SDK.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { repliesBacklogOf } from '#functions/run/replies-backlog.ts';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { ReplyLedger } from '#functions/run/reply-ledger.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { closeBatch } from '#functions/run/close-batch.ts';
import { finishRun } from '#functions/run/finish-run.ts';
import {
  batchSk,
  groupPk,
  nodeSk,
  type BatchItem,
  type NodeRunItem,
  type RunMetaItem,
} from '#shared/runs-table.ts';
import { newRunId } from '#shared/ids.ts';
import { ackWindowSec } from '#shared/request-expiry.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { ackReply, resultReply } from '../helpers/factories.ts';
import { batchCountsOf, seedBatch } from '../helpers/run-seed.ts';

const DISPATCHED_AT = 1_000_000;
const DT = 5;
/** When the window closes: dispatch + the acknowledgement wait. */
const WINDOW_END = DISPATCHED_AT + ackWindowSec({ discoveryTimeoutSec: DT }) * 1000;

let test: TestStack;
let table: string;
let plainDb: DynamoDBClient;
let ledger: ReplyLedger;
let runs: RunStore;
let runId: string;
let clock: number;

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
  clock = WINDOW_END + 30_000;
  ledger = new ReplyLedger({ db: plainDb, sfn: test.sfn, table, now: () => clock });
  runs = new RunStore(test.db, table);
  runId = newRunId();
});

/** A dispatched one-batch run whose hosts never answered in time (as CloseBatch finds it). */
async function seedRun(nodeIds: readonly string[]): Promise<void> {
  const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
  const meta: Partial<RunMetaItem> = {
    runId,
    sk: 'meta',
    status: 'running',
    expected: nodeIds.length,
    batchCount: 1,
    action: 'exec',
    command: { shell: 'true' },
    caller: 'test',
    options: { timeoutSec: 10, discoveryTimeoutSec: DT } as RunMetaItem['options'],
    startedAt: DISPATCHED_AT - 500,
    expiresAt,
  };
  await test.db.send(new PutCommand({ TableName: table, Item: meta }));
  await seedBatch(test.db, table, runId, nodeIds, { dispatchedAt: DISPATCHED_AT });
}

const close = () =>
  closeBatch(
    { runId, batch: 0, batchCount: 1, batchSleepSec: 0, timeouts: { ackSec: 7, resultSec: 10 }, more: false },
    { runs, now: () => clock, sleep: () => Promise.resolve() },
  );
const finish = () =>
  finishRun({ runId }, { runs, now: () => clock, events: { publish: () => Promise.resolve() } });

async function node(nodeId: string): Promise<NodeRunItem> {
  const out = await test.db.send(
    new GetCommand({
      TableName: table,
      Key: { runId: groupPk(runId, 0, 0), sk: nodeSk(nodeId) },
      ConsistentRead: true,
    }),
  );
  return out.Item as NodeRunItem;
}

async function counts() {
  const out = await test.db.send(
    new GetCommand({ TableName: table, Key: { runId, sk: batchSk(0) }, ConsistentRead: true }),
  );
  const { acked, done } = await batchCountsOf(test.db, table, runId);
  return { acked, done, ackWindowEndsAt: (out.Item as BatchItem).ackWindowEndsAt };
}

const ack = (nodeId: string) => ackReply({ runId, nodeId, identity: nodeId, group: 0 });
const result = (nodeId: string) => resultReply({ runId, nodeId, identity: nodeId, group: 0 });

describe('ReplyLedger: answers judged by when they reached SQS', () => {
  it('counts an ack sent within the window but recorded after CloseBatch gave up on its host', async () => {
    await seedRun(['web-1', 'web-2']);
    await close();
    expect((await node('web-1')).status).toBe('no_response');
    expect((await counts()).ackWindowEndsAt).toBe(WINDOW_END);

    // web-1's ack reached SQS a moment before the window closed; ingest gets to it 30 s later.
    expect(await ledger.record([ack('web-1')], [WINDOW_END - 1])).toEqual(['recorded']);
    expect(await node('web-1')).toMatchObject({ status: 'acked' });
    expect((await node('web-1')).closed).toBeUndefined();
    expect(await counts()).toMatchObject({ acked: 1, done: 0 });

    // Its result follows (sent after the window, as results are): it is the host's outcome.
    expect(await ledger.record([result('web-1')], [WINDOW_END + 20_000])).toEqual(['recorded']);
    expect(await node('web-1')).toMatchObject({ status: 'succeeded' });
    expect(await counts()).toMatchObject({ acked: 1, done: 1 });

    const { summary } = await finish();
    expect(summary).toMatchObject({ expected: 2, succeeded: 1, noResponse: 1, late: 0, discovered: 1 });
  });

  it('waits, before giving up on hosts, while their answers are still being recorded', async () => {
    await seedRun(['web-1', 'web-2']);
    // Ingest is behind: web-1's ack and result land while CloseBatch reads; web-2 stays silent.
    const landing = [() => ledger.record([ack('web-1')]), () => ledger.record([result('web-1')])];
    let reads = 0;
    await closeBatch(
      {
        runId,
        batch: 0,
        batchCount: 1,
        batchSleepSec: 0,
        timeouts: { ackSec: 7, resultSec: 10 },
        more: false,
      },
      { runs, now: () => clock, sleep: async () => void (await landing[reads++]?.()) },
    );

    expect(await node('web-1')).toMatchObject({ status: 'succeeded' });
    expect(await node('web-2')).toMatchObject({ status: 'no_response', closed: true });
    // Two reads that change nothing after the last landing, then it gave up.
    expect(reads).toBe(4);
  });

  it('records an ack sent after the window as late, counting nothing', async () => {
    await seedRun(['web-1']);
    await close();

    expect(await ledger.record([ack('web-1')], [WINDOW_END + 1])).toEqual(['late']);
    expect(await node('web-1')).toMatchObject({ status: 'late', lateAs: 'no_response', closed: true });
    expect(await counts()).toMatchObject({ acked: 0, done: 0 });
  });

  it('records an ack and its result of one delivery in order, so the in-time ack reopens the host', async () => {
    await seedRun(['web-1']);
    await close();

    // The result comes first in the delivery and was sent after the window; the ack in time.
    const outcomes = await ledger.record(
      [result('web-1'), ack('web-1')],
      [WINDOW_END + 300, WINDOW_END - 200],
    );

    expect(outcomes).toEqual(['recorded', 'recorded']);
    expect(await node('web-1')).toMatchObject({ status: 'succeeded' });
    expect(await counts()).toMatchObject({ acked: 1, done: 1 });
  });

  it('does not judge a reply without a SentTimestamp as sent in time', async () => {
    await seedRun(['web-1']);
    await close();

    expect(await ledger.record([ack('web-1')])).toEqual(['late']);
  });

  it('never changes a host Finish counted: an in-time ack recorded after Finish is late, marked as after the summary', async () => {
    await seedRun(['web-1']);
    await close();
    const { summary } = await finish();
    expect(summary).toMatchObject({ noResponse: 1, late: 0 });
    expect(await node('web-1')).toMatchObject({ status: 'no_response', sealed: true });

    expect(await ledger.record([ack('web-1')], [WINDOW_END - 1])).toEqual(['late']);
    expect(await node('web-1')).toMatchObject({
      status: 'late',
      lateAs: 'no_response',
      lateAfterSummary: true,
    });
    expect(await counts()).toMatchObject({ acked: 0 });
  });

  it('gives up at Finish on a host reopened by an in-time ack that never reported, and keeps the summary right', async () => {
    await seedRun(['web-1']);
    await close();
    await ledger.record([ack('web-1')], [WINDOW_END - 1]);

    const { summary } = await finish();

    expect(summary).toMatchObject({ expected: 1, timedOut: 1, noResponse: 0, discovered: 1 });
    expect(await node('web-1')).toMatchObject({ status: 'timed_out', closed: true, sealed: true });
    // Its result after that is late, and says the summary counted it as timed out.
    expect(await ledger.record([result('web-1')], [clock])).toEqual(['late']);
    expect(await node('web-1')).toMatchObject({
      status: 'late',
      lateAs: 'timed_out',
      lateAfterSummary: true,
    });
  });

  it('a late reply racing Finish: the summary always equals the hosts it counted', async () => {
    // Many hosts, each given up on; each one's late result races Finish's read and seal.
    const ids = Array.from({ length: 20 }, (_, i) => `web-${i}`);
    await seedRun(ids);
    await close();

    const [finished] = await Promise.all([
      finish(),
      ledger.record(
        ids.map((id) => result(id)),
        ids.map(() => WINDOW_END + 5_000),
      ),
    ]);

    const nodes = await Promise.all(ids.map(node));
    // Each host is what the summary counted it as: late before Finish, or counted as lateAs after.
    const countedAs = (n: NodeRunItem) => (n.status === 'late' && n.lateAfterSummary ? n.lateAs : n.status);
    expect(finished.summary.late).toBe(nodes.filter((n) => countedAs(n) === 'late').length);
    expect(finished.summary.noResponse).toBe(nodes.filter((n) => countedAs(n) === 'no_response').length);
    expect(finished.summary.late + finished.summary.noResponse).toBe(20);
  });
});

/**
 * Ingest held back: the replies sit in a queue of the local SQS emulator while CloseBatch closes
 * the window; CloseBatch asks that queue for its backlog (the real GetQueueAttributes).
 */
describe('CloseBatch and a replies queue ingest has not drained yet', () => {
  let queueUrl: string;

  beforeEach(async () => {
    const out = await test.sqs.send(new CreateQueueCommand({ QueueName: `held-${runId}` }));
    queueUrl = out.QueueUrl!;
  });

  /** Web-1's ack (sent within the window) and its result wait in the queue. */
  async function queueAnswersOfWeb1(): Promise<void> {
    for (const reply of [ack('web-1'), result('web-1')])
      await test.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(reply) }));
  }

  /**
   * Ingest catching up: records what the queue holds, then deletes it. The ack is recorded as sent
   * at the window's end (it reached SQS in time; the emulator's SentTimestamp is wall-clock time,
   * while this run's clock is fixed), the result after it.
   */
  async function ingestCatchesUp(): Promise<void> {
    const out = await test.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = out.Messages ?? [];
    const replies = messages.map((m) => JSON.parse(m.Body!) as ReturnType<typeof ack>);
    await ledger.record(
      replies,
      replies.map((r) => (r.type === 'ack' ? WINDOW_END - 1 : WINDOW_END + 1_000)),
    );
    for (const m of messages)
      await test.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
  }

  /** CloseBatch with a backlog probe on the held queue; `onStep(n)` runs in its n-th wait. */
  async function closeWithBacklog(onStep: (step: number) => Promise<void> = async () => {}) {
    const probe = repliesBacklogOf(test.sqs, queueUrl);
    let steps = 0;
    let probes = 0;
    await closeBatch(
      {
        runId,
        batch: 0,
        batchCount: 1,
        batchSleepSec: 0,
        timeouts: { ackSec: 7, resultSec: 10 },
        more: false,
      },
      {
        runs,
        now: () => clock,
        sleep: async () => onStep(++steps),
        repliesBacklog: async () => {
          probes++;
          return probe();
        },
      },
    );
    return { steps, probes };
  }

  it('does not give up on a host whose ack sits in the queue while ingest is 17 s behind', async () => {
    await seedRun(['web-1', 'web-2']);
    await queueAnswersOfWeb1();

    // Ingest gets to the queue in CloseBatch's 17th wait: past the ~15 s it used to allow.
    const { steps } = await closeWithBacklog(async (step) => {
      if (step === 17) await ingestCatchesUp();
    });
    const { summary } = await finish();
    await ingestCatchesUp(); // what was still queued, had CloseBatch not waited

    expect(await node('web-1')).toMatchObject({ status: 'succeeded' });
    expect(await node('web-2')).toMatchObject({ status: 'no_response', closed: true });
    expect(summary).toMatchObject({ succeeded: 1, noResponse: 1, late: 0, discovered: 1 });
    expect(steps).toBeGreaterThanOrEqual(17);
    expect((await runs.getMeta(runId))?.repliesQueuedAtClose).toBeUndefined();
  });

  it('waits 20 s at most, asking once a second, then says on the run how many replies were still queued', async () => {
    await seedRun(['web-1', 'web-2']);
    await queueAnswersOfWeb1();

    const { steps, probes } = await closeWithBacklog();

    expect(steps).toBe(20);
    // One GetQueueAttributes before the first wait and one after each: never more than one a second.
    expect(probes).toBe(21);
    expect(await node('web-1')).toMatchObject({ status: 'no_response', closed: true });
    expect((await runs.getMeta(runId))?.repliesQueuedAtClose).toBe(2);
  });

  it('does not wait on a message stuck in flight (a poison reply awaiting its retry)', async () => {
    await seedRun(['web-1']);
    await test.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"not":"a reply"}' }));
    await test.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 600, WaitTimeSeconds: 0 }),
    );

    const { steps } = await closeWithBacklog();

    expect(steps).toBe(2);
    expect(await node('web-1')).toMatchObject({ status: 'no_response' });
    expect((await runs.getMeta(runId))?.repliesQueuedAtClose).toBeUndefined();
  });

  it('closes as before when the backlog cannot be read: a failed probe fails no run', async () => {
    await seedRun(['web-1']);
    const warnings: string[] = [];
    let steps = 0;
    await closeBatch(
      {
        runId,
        batch: 0,
        batchCount: 1,
        batchSleepSec: 0,
        timeouts: { ackSec: 7, resultSec: 10 },
        more: false,
      },
      {
        runs,
        now: () => clock,
        sleep: async () => void steps++,
        repliesBacklog: () => Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDenied' })),
        log: { warn: (message) => void warnings.push(message) },
      },
    );

    expect(steps).toBe(2);
    expect(await node('web-1')).toMatchObject({ status: 'no_response', closed: true });
    expect(warnings).toContain('replies backlog unknown');
  });

  it('asks nothing of the queue when every host has answered', async () => {
    await seedRun(['web-1']);
    await ledger.record([ack('web-1'), result('web-1')]);
    await queueAnswersOfWeb1();

    const { steps, probes } = await closeWithBacklog();

    expect({ steps, probes }).toEqual({ steps: 0, probes: 0 });
  });
});
