/**
 * The local SQS emulator answers the backlog counts as SQS does (CloseBatch reads them before
 * giving up on hosts): `ApproximateNumberOfMessages` only what can be received now,
 * `ApproximateNumberOfMessagesNotVisible` what was received and not yet deleted, delayed messages
 * in neither. (local-aws-sqs alone counts an in-flight message in both; local/sqs-backlog-counts.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqs, type Closable } from '#local/emulators.ts';
import { repliesBacklogOf } from '#functions/run/replies-backlog.ts';

let sqs: Closable;
let client: SQSClient;

beforeAll(async () => {
  sqs = await startSqs({ region: 'us-east-1' });
  client = new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${sqs.port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client?.destroy();
  await sqs?.close();
});

async function queue(name: string): Promise<string> {
  return (await client.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!;
}

describe('local SQS backlog counts', () => {
  it('counts a received message as not visible only, and a deleted one nowhere', async () => {
    const url = await queue('backlog-1');
    const backlog = repliesBacklogOf(client, url);
    for (const body of ['a', 'b', 'c'])
      await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    expect(await backlog()).toEqual({ visible: 3, inFlight: 0 });

    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }),
    );
    expect(await backlog()).toEqual({ visible: 2, inFlight: 1 });

    await client.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: received.Messages![0]!.ReceiptHandle! }),
    );
    expect(await backlog()).toEqual({ visible: 2, inFlight: 0 });
  });

  it('counts a message visible again after its visibility timeout as visible', async () => {
    const url = await queue('backlog-2');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'a' }));
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    expect(await repliesBacklogOf(client, url)()).toEqual({ visible: 0, inFlight: 1 });

    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: received.Messages![0]!.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(await repliesBacklogOf(client, url)()).toEqual({ visible: 1, inFlight: 0 });
  });

  it('counts a delayed message as delayed only, and answers one attribute alone right', async () => {
    const url = await queue('backlog-3');
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'later', DelaySeconds: 60 }));
    await client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'now' }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));

    const all = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(all.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
      ApproximateNumberOfMessagesDelayed: '1',
    });
    const one = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(one.Attributes).toEqual({ ApproximateNumberOfMessages: '0' });
  });
});
