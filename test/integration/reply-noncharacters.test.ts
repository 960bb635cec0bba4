/**
 * A command's output may hold U+FFFE or U+FFFF. SQS refuses a body with either
 * (InvalidMessageContents), and `JSON.stringify` leaves them as they are: the agent's result was
 * refused, spooled and finally set aside, so that host's result was lost. The agent's reply path
 * (ReplySender over a real ReplyBatcher and SQS client) against the patched local SQS, which
 * refuses such bodies as SQS does: the result arrives, and parses back to the same text.
 */
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyBatcher } from '#agent/reply/reply-batcher.ts';
import { ReplySender } from '#agent/reply/reply-sender.ts';
import { jsonLog } from '#agent/json-log.ts';
import { resultReplySchema } from '#shared/messages.ts';
import { resultReply } from '../helpers/factories.ts';
import { startBareSqs, type BareSqs } from '../helpers/bare-sqs.ts';

let bare: BareSqs;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  bare = await startBareSqs({ maxAttempts: 1 });
  sqs = bare.sqs;
  queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'replies-nonchar' }))).QueueUrl!;
});

afterAll(async () => {
  await bare?.close();
});

describe('a result whose output holds U+FFFE or U+FFFF', () => {
  const text = 'before \uFFFE middle \uFFFF after\n';

  it('is refused by SQS when written by JSON.stringify (what the agent did)', async () => {
    const body = JSON.stringify(resultReply({ stdout: { text, bytes: 29, truncated: false } }));
    await expect(
      sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body })),
    ).rejects.toMatchObject({ name: 'InvalidMessageContents' });
  });

  it('reaches the replies queue through the agent reply path and reads back the same', async () => {
    const log = jsonLog(() => undefined, 'error');
    const sender = new ReplySender(new ReplyBatcher(sqs, queueUrl), log, { attempts: 1 });
    const reply = resultReply({ runId: 'RUN-NONCHAR', stdout: { text, bytes: 29, truncated: false } });

    expect(await sender.send(reply)).toBe(true);

    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
    expect(out.Messages).toHaveLength(1);
    const received = resultReplySchema.parse(JSON.parse(out.Messages![0]!.Body!));
    expect(received.stdout.text).toBe(text);
    expect(received).toEqual(reply);
  });
});
