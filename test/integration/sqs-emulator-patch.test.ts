/**
 * Pinned by patches/local-aws-sqs+2.0.2.patch, the third round of issue 18.2 (cost per request of
 * the SQS emulator, which serves ~4 requests per host and run on the stack's one thread):
 *
 * - the queue index is kept by the calls that add and remove queues, so creating a queue and
 *   finding one are O(1), not a scan of every queue (1,000 agents joining created 1,000 inboxes,
 *   each create comparing its name with every queue's and the next request rebuilding the index);
 * - a message sent without delay is receivable at once (no timer per message: it was "delayed"
 *   until a 0 ms timer fired), while a delayed one still waits and is counted as delayed;
 * - duplicate batch entry ids are found in one pass, still refused with AWS's error;
 * - ReceiveMessage's `MessageSystemAttributeNames` (AWS's parameter since 2024; the agent asks for
 *   ApproximateReceiveCount with it) selects system attributes, as the deprecated
 *   `AttributeNames` did: 2.0.2 ignored it, so the agent never saw a receive count locally;
 * - ChangeMessageVisibility is not a receive: 2.0.2 added one to ApproximateReceiveCount for it,
 *   which sent messages to the dead-letter queue early and, with the count now returned, made
 *   the agent give up on a message after two handlings instead of three;
 * - message sizes are counted in UTF-8 bytes, as SQS counts them (2.0.2 counted UTF-16 code
 *   units), and a body with a character SQS does not allow is refused with InvalidMessageContents
 *   (2.0.2 stored it): local is never more lenient than AWS;
 * - a waiting poll is woken by whatever makes a message receivable, with no rescan every second;
 * - private state lives in per-object slots and the handlers are native async functions (no
 *   behaviour of their own: every test of the emulator covers them).
 */
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '#local/api-server.ts';

type Service = ReturnType<typeof createRequestHandler>['service'];

let server: Server;
let service: Service;
let sqs: SQSClient;

beforeAll(async () => {
  const emulator = createRequestHandler({
    port: 0,
    hostname: '127.0.0.1',
    region: 'us-east-1',
    emulateQueueCreationLifecycle: false,
  });
  service = emulator.service;
  server = createServer((req, res) => void emulator.requestHandler(req, res));
  service.PORT = await listen(server);
  sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${service.PORT}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  sqs?.destroy();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

const create = async (name: string, attributes?: Record<string, string>) =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;

/**
 * Replaces the service's queue list with a proxy that counts how many of its entries are read
 * (a `find`, `indexOf` or `for…of` over the queues reads each entry it passes).
 */
function countQueueReads(): { reads: () => number } {
  let reads = 0;
  service.Queues = new Proxy(service.Queues, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return { reads: () => reads };
}

describe('local-aws-sqs queue index (patched)', () => {
  it('creates and finds queues without reading every queue each time', async () => {
    // Prepare: 150 queues, then a list that counts its reads.
    for (let i = 0; i < 150; i++) await create(`index-before-${i}`);
    const counter = countQueueReads();

    // Act: 150 more creates, each followed by a send to it and a GetQueueUrl.
    for (let i = 0; i < 150; i++) {
      const url = await create(`index-after-${i}`);
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }));
      await sqs.send(new GetQueueUrlCommand({ QueueName: `index-after-${i}` }));
    }

    // Assess: one index rebuild for the new list (150 reads), then O(1) per call. Scanning the
    // queues on each create, as local-aws-sqs 2.0.2 did, reads ~225 per create: ~34,000 here.
    expect(counter.reads()).toBeLessThanOrEqual(150 + 150);
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'index-after-77' }))).QueueUrl!;
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }));
    expect(Messages?.map((m) => m.Body)).toEqual(['m77']);
  });

  it('forgets a deleted queue at once, also when another is created in its place', async () => {
    const gone = await create('index-gone');
    await sqs.send(new DeleteQueueCommand({ QueueUrl: gone }));
    await create('index-replacement');

    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: gone, MessageBody: 'x' })),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
    await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'index-gone' }))).rejects.toBeInstanceOf(
      QueueDoesNotExist,
    );
  });

  it('answers CreateQueue for an existing name with the same queue, and refuses other attributes', async () => {
    const url = await create('index-twice', { VisibilityTimeout: '10' });

    expect(await create('index-twice', { VisibilityTimeout: '10' })).toBe(url);
    await expect(create('index-twice', { VisibilityTimeout: '20' })).rejects.toMatchObject({
      name: 'QueueNameExists',
    });
  });
});

describe('local-aws-sqs delays (patched)', () => {
  const delayed = async (url: string) =>
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessagesDelayed'],
        }),
      )
    ).Attributes?.ApproximateNumberOfMessagesDelayed;

  it('makes a message sent without delay receivable at once, never counted as delayed', async () => {
    const url = await create('delay-none');

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'now' }));

    expect(await delayed(url)).toBe('0');
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    expect(Messages?.map((m) => m.Body)).toEqual(['now']);
  });

  it('still holds back a delayed message until its delay ends, counting it as delayed', async () => {
    const url = await create('delay-one-second');

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 1 }));

    expect(await delayed(url)).toBe('1');
    const early = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    expect(early.Messages ?? []).toHaveLength(0);
    const late = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5 }));
    expect(late.Messages?.map((m) => m.Body)).toEqual(['later']);
    expect(await delayed(url)).toBe('0');
  });

  it('applies a queue’s own DelaySeconds to a message sent without one', async () => {
    const url = await create('delay-by-queue', { DelaySeconds: '1' });

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'queued' }));

    expect(await delayed(url)).toBe('1');
    const early = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    expect(early.Messages ?? []).toHaveLength(0);
  });
});

describe('local-aws-sqs batch entry ids (patched)', () => {
  it('refuses a SendMessageBatch whose entry ids repeat, with BatchEntryIdsNotDistinct', async () => {
    const url = await create('batch-dupes');
    const Entries = ['a', 'b', 'c', 'b'].map((Id) => ({ Id, MessageBody: Id }));

    await expect(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }))).rejects.toMatchObject({
      name: 'BatchEntryIdsNotDistinct',
    });
  });

  it('refuses a DeleteMessageBatch whose entry ids repeat, and takes distinct ones', async () => {
    const url = await create('batch-delete-dupes');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: ['x', 'y'].map((Id) => ({ Id, MessageBody: Id })),
      }),
    );
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
    );
    const handles = Messages.map((m) => m.ReceiptHandle!);

    const twice = sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: handles.map((ReceiptHandle) => ({ Id: 'same', ReceiptHandle })),
      }),
    );

    await expect(twice).rejects.toMatchObject({ name: 'BatchEntryIdsNotDistinct' });
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: handles.map((ReceiptHandle, i) => ({ Id: `e${i}`, ReceiptHandle })),
      }),
    );
    expect(out.Successful?.length).toBe(2);
  });
});

describe('local-aws-sqs system attributes on receive (patched)', () => {
  it('returns the system attributes named in MessageSystemAttributeNames, and only those', async () => {
    const url = await create('sysattrs-named');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'counted' }));

    const first = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        VisibilityTimeout: 0,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    const second = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );

    expect(first.Messages?.map((m) => m.Attributes)).toEqual([{ ApproximateReceiveCount: '1' }]);
    expect(second.Messages?.map((m) => m.Attributes)).toEqual([{ ApproximateReceiveCount: '2' }]);
  });

  it('counts receives, not visibility changes, in ApproximateReceiveCount', async () => {
    const url = await create('sysattrs-visibility');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'retried' }));
    const receive = async () =>
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            WaitTimeSeconds: 5,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        )
      ).Messages?.[0];

    const first = await receive();
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: first!.ReceiptHandle,
        VisibilityTimeout: 1,
      }),
    );
    const second = await receive();

    expect([first?.Attributes, second?.Attributes]).toEqual([
      { ApproximateReceiveCount: '1' },
      { ApproximateReceiveCount: '2' },
    ]);
  });

  it('returns every system attribute for All, and none when none are asked for', async () => {
    const url = await create('sysattrs-all');
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: ['one', 'two'].map((Id) => ({ Id, MessageBody: Id })),
      }),
    );

    const all = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const none = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1 }));

    expect(Object.keys(all.Messages?.[0]?.Attributes ?? {})).toEqual(
      expect.arrayContaining([
        'ApproximateReceiveCount',
        'SentTimestamp',
        'SenderId',
        'ApproximateFirstReceiveTimestamp',
      ]),
    );
    expect(none.Messages?.[0]?.Attributes).toBeUndefined();
  });
});

describe('local-aws-sqs message size and contents, as SQS checks them (patched)', () => {
  const euro = '€'; // 3 bytes in UTF-8, 1 UTF-16 code unit

  it('counts a body in UTF-8 bytes against MaximumMessageSize', async () => {
    const url = await create('size-bytes', { MaximumMessageSize: '1024' });

    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: euro.repeat(341) + 'x' }));
    const over = sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: euro.repeat(400) }));

    // 1,200 bytes in 400 characters: 2.0.2 took it.
    await expect(over).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  });

  it('fails a batch entry over the size in bytes, and sends the others', async () => {
    const url = await create('size-bytes-batch', { MaximumMessageSize: '1024' });

    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'small', MessageBody: 'fits' },
          { Id: 'wide', MessageBody: euro.repeat(400) },
        ],
      }),
    );

    expect(out.Successful?.map((e) => e.Id)).toEqual(['small']);
    expect(out.Failed?.map((e) => [e.Id, e.Code])).toEqual([['wide', 'InvalidParameterValue']]);
  });

  it('refuses a batch over 1 MiB in bytes in all with BatchRequestTooLong', async () => {
    const url = await create('size-bytes-total');
    // 5 × 210,000 bytes = 1,050,000 bytes (350,000 characters).
    const Entries = Array.from({ length: 5 }, (_, i) => ({ Id: `e${i}`, MessageBody: euro.repeat(70_000) }));

    await expect(sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }))).rejects.toMatchObject({
      name: 'BatchRequestTooLong',
    });
  });

  it('refuses a body with a character SQS does not allow, with InvalidMessageContents', async () => {
    const url = await create('contents');
    const send = (MessageBody: string) => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody }));

    for (const bad of ['nul \u0000 here', 'bell \u0007', 'noncharacter \uFFFF', 'lone \uD800 surrogate']) {
      await expect(send(bad), JSON.stringify(bad)).rejects.toMatchObject({ name: 'InvalidMessageContents' });
    }
    await send('tab\t, newline\n, return\r, emoji 😀, \uFFFD and \uE000 are allowed');
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
  });

  it('fails a batch entry with a character SQS does not allow, and sends the others', async () => {
    const url = await create('contents-batch');

    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: [
          { Id: 'good', MessageBody: '{"ok":true}' },
          { Id: 'bad', MessageBody: 'form feed \f' },
        ],
      }),
    );

    expect(out.Successful?.map((e) => e.Id)).toEqual(['good']);
    expect(out.Failed?.map((e) => [e.Id, e.Code, e.SenderFault])).toEqual([
      ['bad', 'InvalidMessageContents', true],
    ]);
  });
});
