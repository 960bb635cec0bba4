/**
 * The local event source hands ingest the system attributes AWS's event source mapping always
 * includes: a record's SentTimestamp is when the message reached SQS, not when it was polled (the
 * ledger judges acknowledgements by it), and ApproximateReceiveCount.
 */
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { startSqs, type Closable } from '#local/emulators.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsEventSource } from '#local/event-source.ts';

let emulator: Closable;
let sqs: SQSClient;

beforeAll(async () => {
  // The SQS emulator as the local stack runs it.
  emulator = await startSqs({ region: 'us-east-1' });
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${emulator.port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  sqs?.destroy();
  await emulator?.close();
});

describe('local SQS event source', () => {
  it('gives each record the SentTimestamp SQS stamped when it was sent, and its receive count', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'event-source-attrs' }));
    const sentBefore = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'first' }));
    const sentAfter = Date.now();
    // Polled well after it was sent: a record stamped at receive time would be 1.5 s late.
    await new Promise((r) => setTimeout(r, 1_500));
    const delivered: SQSRecord[] = [];
    const source = new SqsEventSource({
      sqs,
      queueUrl: QueueUrl!,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:event-source-attrs',
      region: 'us-east-1',
      pollers: 1,
      invoke: (event: SQSEvent) => {
        delivered.push(...event.Records);
        return Promise.resolve({});
      },
    });
    source.start();
    try {
      const deadline = Date.now() + 20_000;
      while (delivered.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await source.stop();
    }
    expect(delivered.length).toBeGreaterThanOrEqual(1);
    const sentAt = Number(delivered[0]!.attributes.SentTimestamp);
    expect(sentAt).toBeGreaterThanOrEqual(sentBefore);
    expect(sentAt).toBeLessThanOrEqual(sentAfter);
    expect(delivered[0]!.attributes.ApproximateReceiveCount).toBe('1');
  });
});
