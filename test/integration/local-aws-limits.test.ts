/**
 * The local stack is never more lenient than AWS: each limit drover's code can reach is enforced
 * by the emulator, with AWS's error name, and drover's code stays within it. Step Functions'
 * quotas are in local-sfn-api.test.ts, KMS Sign's in dispatch-kms.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { BatchGetCommand, BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ReplyBatcher } from '#agent/reply/reply-batcher.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { LambdaRuntime, MAX_SYNC_REQUEST_BYTES } from '#local/lambda-runtime.ts';
import { newRunId } from '#shared/ids.ts';
import { META_SK, nodeSk } from '#shared/runs-table.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await t?.stop();
});

const KIB = 1024;

describe('SQS limits on the replies queue', () => {
  const queue = () => t.stack.file.repliesQueueUrl;

  it('declares 256 KiB messages, as serverless.yml does', async () => {
    const out = await t.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue(), AttributeNames: ['MaximumMessageSize'] }),
    );
    expect(out.Attributes?.MaximumMessageSize).toBe('262144');
  });

  it('refuses a message over 256 KiB with InvalidParameterValue', async () => {
    const send = t.sqs.send(
      new SendMessageCommand({ QueueUrl: queue(), MessageBody: 'x'.repeat(256 * KIB + 1) }),
    );

    await expect(send).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('refuses a batch of 11 entries with TooManyEntriesInBatchRequest', async () => {
    const Entries = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: '{}' }));

    const send = t.sqs.send(new SendMessageBatchCommand({ QueueUrl: queue(), Entries }));

    await expect(send).rejects.toMatchObject({ name: 'TooManyEntriesInBatchRequest' });
  });

  it('refuses a batch over 1 MiB in all with BatchRequestTooLong', async () => {
    const Entries = Array.from({ length: 5 }, (_, i) => ({
      Id: `m${i}`,
      MessageBody: 'x'.repeat(250 * KIB),
    }));

    const send = t.sqs.send(new SendMessageBatchCommand({ QueueUrl: queue(), Entries }));

    await expect(send).rejects.toMatchObject({ name: 'BatchRequestTooLong' });
  });

  it('takes what the agents’ batcher sends: 25 replies of 100 KiB, in calls of at most 10 and 256 KiB', async () => {
    // Prepare: a queue of its own, limited as the replies queue is.
    const { QueueUrl } = await t.sqs.send(
      new CreateQueueCommand({ QueueName: 'limits-batcher', Attributes: { MaximumMessageSize: '262144' } }),
    );
    const bodies = Array.from({ length: 25 }, (_, i) => JSON.stringify({ i, pad: 'r'.repeat(100 * KIB) }));
    const batcher = new ReplyBatcher(t.sqs, QueueUrl!);

    // Act
    await Promise.all(bodies.map((body) => batcher.send(body)));

    // Assess: every reply arrived.
    let received = 0;
    for (let i = 0; i < 10 && received < 25; i++) {
      const out = await t.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: QueueUrl!, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      received += out.Messages?.length ?? 0;
    }
    expect(received).toBe(25);
  });
});

describe('DynamoDB limits (dynalite)', () => {
  const table = () => t.stack.file.runsTable;

  it('refuses an item over 400 KB with ValidationException', async () => {
    const put = t.db.send(
      new PutCommand({
        TableName: table(),
        Item: { runId: newRunId(), sk: META_SK, pad: 'x'.repeat(400 * KIB) },
      }),
    );

    await expect(put).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses a BatchWriteItem of 26 requests, and the run store writes 60 items in calls of 25', async () => {
    const runId = newRunId();
    const items = Array.from({ length: 60 }, (_, i) => ({ runId, sk: nodeSk(`n-${i}`), expiresAt: 0 }));

    const tooMany = t.db.send(
      new BatchWriteCommand({
        RequestItems: { [table()]: items.slice(0, 26).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
    await expect(tooMany).rejects.toMatchObject({ name: 'ValidationException' });

    await new RunStore(t.db, table()).putMany(items);
    const nodes = await new RunStore(t.db, table()).queryNodes(runId);
    expect(nodes).toHaveLength(60);
  });

  it('refuses a BatchGetItem of 101 keys with ValidationException', async () => {
    const Keys = Array.from({ length: 101 }, (_, i) => ({ runId: `r-${i}`, sk: META_SK }));

    const get = t.db.send(new BatchGetCommand({ RequestItems: { [table()]: { Keys } } }));

    await expect(get).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('Lambda synchronous payload limits (local runtime)', () => {
  let root = '';
  let lambdas: LambdaRuntime;

  beforeAll(() => {
    // Handlers at the deploy paths that answer with the size they are asked for.
    root = mkdtempSync(join(tmpdir(), 'drover-lambda-'));
    mkdirSync(join(root, 'functions'));
    writeFileSync(
      join(root, 'functions', 'plan.ts'),
      "export const handler = async (event: { size: number }) => ({ pad: 'x'.repeat(event.size) });\n",
    );
    lambdas = new LambdaRuntime(root, 'arn:aws:lambda:us-east-1:000000000000:function:drover-limits-');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses an event over 6 MB with RequestEntityTooLargeException, before the handler runs', async () => {
    const event = { size: 1, pad: 'e'.repeat(MAX_SYNC_REQUEST_BYTES) };

    await expect(lambdas.invoke('plan', event)).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
    });
  });

  it('fails a response over 6 MB with Function.ResponseSizeTooLarge, and passes one under it', async () => {
    await expect(lambdas.invoke('plan', { size: 6 * KIB * KIB + 200 })).rejects.toMatchObject({
      name: 'Function.ResponseSizeTooLarge',
    });
    await expect(lambdas.invoke('plan', { size: 5 * KIB * KIB })).resolves.toMatchObject({});
  });
});
