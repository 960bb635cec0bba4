/**
 * Pinned by patches/local-aws-sqs+2.0.2.patch: the emulator finds a request's queue by name in an
 * index (local-aws-sqs 2.0.2 compared the name with every queue's, on every request: with 1,000
 * agents' inboxes that was a thousand comparisons per call). The index must never answer for a
 * queue that is gone, nor miss one that was created or recreated since it was built.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBareSqs, type BareSqs } from '../helpers/bare-sqs.ts';

let bare: BareSqs;
let sqs: SQSClient;

beforeAll(async () => {
  bare = await startBareSqs();
  sqs = bare.sqs;
});

afterAll(async () => {
  await bare?.close();
});

const create = async (name: string) =>
  (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
const receiveBodies = async (url: string) =>
  (
    (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }))).Messages ?? []
  ).map((m) => m.Body);

describe('local-aws-sqs queue lookup by name (patched)', () => {
  it('sends each message to its own queue among many', async () => {
    const urls = await Promise.all(Array.from({ length: 60 }, (_, i) => create(`lookup-many-${i}`)));
    await Promise.all(
      urls.map((url, i) => sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `m${i}` }))),
    );
    for (const [i, url] of urls.entries()) expect(await receiveBodies(url)).toEqual([`m${i}`]);
  });

  it('forgets a deleted queue and finds it again once recreated, empty', async () => {
    const url = await create('lookup-recreated');
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'before' }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'x' })),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
    expect(await create('lookup-recreated')).toBe(url);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'after' }));
    expect(await receiveBodies(url)).toEqual(['after']);
  });

  it('finds a queue created after a lookup, and refuses an unknown one', async () => {
    const first = await create('lookup-first');
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: first, AttributeNames: ['All'] }));
    const second = await create('lookup-second');
    await sqs.send(new SendMessageCommand({ QueueUrl: second, MessageBody: 'two' }));
    expect(await receiveBodies(second)).toEqual(['two']);
    await expect(
      sqs.send(
        new SendMessageCommand({
          QueueUrl: second.replace('lookup-second', 'lookup-none'),
          MessageBody: 'x',
        }),
      ),
    ).rejects.toBeInstanceOf(QueueDoesNotExist);
  });
});
