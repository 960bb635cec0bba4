/**
 * On one machine, the replies ingest sees carry the SenderId of the credentials that sent them (as
 * in AWS), not the emulator's one fixed id: so ingest's sender check runs in local mode too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CreateQueueCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createSqsClient } from '#shared/aws.ts';
import { localAgentKey } from '#shared/local-principals.ts';
import { startSqs, type Closable } from '#local/emulators.ts';
import { SenderRegistry } from '#local/sqs-senders.ts';
import { SqsEventSource } from '#local/event-source.ts';

let sqs: Closable | undefined;
let source: SqsEventSource | undefined;
afterEach(async () => {
  await source?.stop();
  await sqs?.close();
});

const client = (endpoint: string, accessKeyId: string) =>
  createSqsClient({
    region: 'us-east-1',
    endpoints: { sqs: endpoint },
    credentials: { accessKeyId, secretAccessKey: 'local' },
  });

describe('local SenderIds', () => {
  it('come from the sending credentials: an agent session, the demo fleet, anyone else', async () => {
    const senders = new SenderRegistry();
    sqs = await startSqs({ region: 'us-east-1', senders });
    const endpoint = `http://127.0.0.1:${sqs.port}`;
    const stack = client(endpoint, 'local');
    const { QueueUrl } = await stack.send(new CreateQueueCommand({ QueueName: 'drover-t-replies' }));
    const agent = client(endpoint, localAgentKey(['web-1']));
    const fleet = client(endpoint, localAgentKey(['web-2', 'web-3']));

    await agent.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from web-1' }));
    await fleet.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'from the fleet (a)' },
          { Id: 'b', MessageBody: 'from the fleet (b)' },
        ],
      }),
    );
    await stack.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from the operator' }));

    const seen = new Map<string, string>();
    const all = new Promise<void>((resolve) => {
      source = new SqsEventSource({
        sqs: stack,
        queueUrl: QueueUrl!,
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:drover-t-replies',
        region: 'us-east-1',
        pollers: 1,
        senderOf: (id) => senders.senderOf(id),
        invoke: async (event: SQSEvent) => {
          for (const r of event.Records) seen.set(r.body, r.attributes.SenderId);
          if (seen.size === 4) resolve();
          return { batchItemFailures: [] };
        },
      });
      source.start();
    });
    await all;

    expect(Object.fromEntries(seen)).toEqual({
      'from web-1': 'AROALOCALAGENT:web-1',
      'from the fleet (a)': 'LOCALFLEET',
      'from the fleet (b)': 'LOCALFLEET',
      'from the operator': 'local',
    });
    for (const c of [stack, agent, fleet]) c.destroy();
  }, 30_000);
});
