/**
 * The local stack's handlers reach the SQS and DynamoDB emulators of their own process without a
 * socket
 * (shared/in-process-connections.ts): the same HTTP requests, signed the same way, so the emulator
 * answers them and records who sent each message exactly as over TCP; every other host and port,
 * and a server no longer registered, still get TCP.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Duplex } from 'node:stream';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createPlainDynamoClient, createSqsClient } from '#shared/aws.ts';
import { InProcessAwareAgent, serveInProcess } from '#shared/in-process-connections.ts';
import { localAgentKey } from '#shared/local-principals.ts';
import { startDynalite, startSqs, type Closable, type SqsEmulator } from '#local/emulators.ts';
import { SenderRegistry } from '#local/sqs-senders.ts';

let emulator: SqsEmulator | undefined;
let dynalite: Closable | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await emulator?.close();
  await dynalite?.close();
});

const client = (endpoint: string, accessKeyId: string) =>
  createSqsClient({
    region: 'us-east-1',
    endpoints: { sqs: endpoint },
    credentials: { accessKeyId, secretAccessKey: 'local' },
  });

/** Registers the emulator for in-process connections, counting them. */
function serveCounting(url: string, server: Pick<SqsEmulator, 'accept'>): { accepted: () => number } {
  let accepted = 0;
  stops.push(
    serveInProcess(url, (connection: Duplex) => {
      accepted++;
      server.accept(connection);
    }),
  );
  return { accepted: () => accepted };
}

describe('in-process connections to the SQS emulator', () => {
  it('carry the SDK’s calls, and the sender of each message is still taken from its credentials', async () => {
    const senders = new SenderRegistry();
    emulator = await startSqs({ region: 'us-east-1', senders });
    const endpoint = `http://127.0.0.1:${emulator.port}`;
    const served = serveCounting(endpoint, emulator);
    const stack = client(endpoint, 'local');
    const agent = client(endpoint, localAgentKey(['web-1']));

    const { QueueUrl } = await stack.send(new CreateQueueCommand({ QueueName: 'in-process' }));
    const sent = await agent.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from web-1' }));
    const batch = await stack.send(
      new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: 'from the stack' }] }),
    );
    const { Messages = [] } = await stack.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );

    expect(served.accepted()).toBeGreaterThanOrEqual(2);
    expect(Messages.map((m) => m.Body).sort()).toEqual(['from the stack', 'from web-1']);
    expect(senders.senderOf(sent.MessageId!)).toBe('AROALOCALAGENT:web-1');
    expect(senders.senderOf(batch.Successful![0]!.MessageId!)).toBe('local');
    stack.destroy();
    agent.destroy();
  });

  it('are used only while the server is registered: afterwards the same client connects over TCP', async () => {
    emulator = await startSqs({ region: 'us-east-1' });
    const endpoint = `http://127.0.0.1:${emulator.port}`;
    const served = serveCounting(endpoint, emulator);
    const sqs = client(endpoint, 'local');
    await sqs.send(new CreateQueueCommand({ QueueName: 'registered' }));
    const whileRegistered = served.accepted();

    stops.splice(0).forEach((stop) => stop());
    sqs.destroy();
    const later = client(endpoint, 'local');
    const { QueueUrl } = await later.send(new CreateQueueCommand({ QueueName: 'unregistered' }));

    expect(whileRegistered).toBe(1);
    expect(served.accepted()).toBe(1);
    expect(QueueUrl).toContain('unregistered');
    later.destroy();
  });

  it('reach a registered server on a port nothing listens on, and nothing else', async () => {
    emulator = await startSqs({ region: 'us-east-1' });
    // Port 9 (discard) on loopback: nothing listens, so only an in-process connection can answer.
    stops.push(serveInProcess('http://127.0.0.1:9', emulator.accept));
    const agent = new InProcessAwareAgent({ keepAlive: true });
    const status = (port: number) =>
      new Promise<number | string>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/', method: 'POST', agent }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        req.end('Action=ListQueues');
      });

    expect(await status(9)).toBe(200);
    expect(await status(10)).toBe('ECONNREFUSED');
    agent.destroy();
  });

  it('carry the DynamoDB calls to dynalite too', async () => {
    const db = await startDynalite();
    dynalite = db;
    const endpoint = `http://127.0.0.1:${db.port}`;
    const served = serveCounting(endpoint, db);
    const client = createPlainDynamoClient({
      region: 'us-east-1',
      endpoints: { dynamodb: endpoint },
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });

    await client.send(
      new CreateTableCommand({
        TableName: 'in-process',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const { TableNames } = await client.send(new ListTablesCommand({}));

    expect(TableNames).toEqual(['in-process']);
    expect(served.accepted()).toBeGreaterThanOrEqual(1);
    client.destroy();
  });
});
