import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqs, type Closable } from '#local/emulators.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Pinned by patches/local-aws-sqs+2.0.2.patch: a long poll returns as soon as a message is available,
// instead of waiting until MaxNumberOfMessages messages have arrived or the whole wait has elapsed;
// and waiting polls are woken when a message becomes receivable (sent, or visible again) instead
// of each scanning its queue every 10 ms.

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

async function createQueue(name: string): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error('CreateQueue returned no QueueUrl');
  return QueueUrl;
}

describe('local-aws-sqs long polling (patched)', () => {
  it('returns as soon as one message arrives, even when MaxNumberOfMessages is 10', async () => {
    const queueUrl = await createQueue('long-poll-early-return');

    const started = performance.now();
    const receive = sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'hello' }));

    const { Messages } = await receive;
    const elapsedMs = performance.now() - started;

    expect(Messages?.map((m) => m.Body)).toEqual(['hello']);
    // Unpatched, the receive only resolves when the 5 s wait ends.
    expect(elapsedMs).toBeLessThan(2500);
  });

  it('still waits for WaitTimeSeconds when the queue stays empty', async () => {
    const queueUrl = await createQueue('long-poll-empty');

    const started = performance.now();
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
    );
    const elapsedMs = performance.now() - started;

    expect(Messages ?? []).toHaveLength(0);
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
  });

  it('returns all messages already in the queue in one receive', async () => {
    const queueUrl = await createQueue('long-poll-batch');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ['a', 'b', 'c'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );

    const started = performance.now();
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }),
    );
    const elapsedMs = performance.now() - started;

    expect(Messages?.map((m) => m.Body).sort()).toEqual(['a', 'b', 'c']);
    expect(elapsedMs).toBeLessThan(2500);
  });

  it('gives a message that arrives while two polls wait to exactly one of them', async () => {
    const queueUrl = await createQueue('long-poll-two-waiters');
    const receive = () =>
      sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 2, MaxNumberOfMessages: 10 }),
      );
    const polls = [receive(), receive()];
    await new Promise((resolve) => setTimeout(resolve, 200));

    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'once' }));

    const bodies = (await Promise.all(polls)).flatMap((out) => out.Messages?.map((m) => m.Body) ?? []);
    expect(bodies).toEqual(['once']);
  });

  it('wakes a waiting poll when a received message becomes visible again', async () => {
    const queueUrl = await createQueue('long-poll-visible-again');
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'again' }));
    const first = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 1, WaitTimeSeconds: 1 }),
    );

    const second = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 5,
        // local-aws-sqs returns system attributes only for the older parameter.
        AttributeNames: ['All'],
      }),
    );

    expect(first.Messages?.map((m) => m.Body)).toEqual(['again']);
    expect(second.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([
      ['again', '2'],
    ]);
  });
});
