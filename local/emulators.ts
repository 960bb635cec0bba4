/**
 * The emulators named in the design, on loopback: dynalite for DynamoDB and local-aws-sqs for SQS,
 * with the stage's tables and queues created the way serverless.yml declares them.
 */
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { CreateTableCommand, type DynamoDBClient, type GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { RESULTS_INDEX } from '#shared/runs-table.ts';
import type { SenderRegistry } from './sqs-senders.ts';
import { correctBacklogCounts } from './sqs-backlog-counts.ts';
import { listen } from './api-server.ts';

/**
 * The replies queues take messages of up to 256 KiB, as serverless.yml declares them: drover keeps
 * to the limit every queue had until 2025 (new queues default to 1 MiB since), and a queue that
 * says so refuses a larger reply locally and in AWS alike.
 */
const MAX_REPLY_BYTES = '262144';

const require = createRequire(import.meta.url);

export interface Closable {
  port: number;
  close(): Promise<void>;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolveClose) => {
    server.closeAllConnections?.();
    server.close(() => resolveClose());
  });
}

/** dynalite in memory, or on disk under `path`. */
export async function startDynalite(
  options: { path?: string; port?: number } = {},
): Promise<Closable & Pick<SqsEmulator, 'accept'>> {
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server;
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const port = await listen(server, options.port ?? 0);
  // A connection made in this process, served without a socket (shared/in-process-connections.ts).
  return { port, close: () => closeServer(server), accept: (c) => server.emit('connection', c) };
}

export interface SqsEmulator extends Closable {
  /**
   * Serves a connection made in this process (any Duplex; Node's HTTP server takes one as a
   * socket) as if accepted on the port: same handler, same sender records, no file descriptor.
   * The simulated fleet's 10,000 long polls use it (bench/simulate/memory-connection.ts).
   */
  accept(connection: Duplex): void;
}

export async function startSqs(options: {
  port?: number;
  region: string;
  /** Records who sent each message (the emulator itself gives all one SenderId). */
  senders?: SenderRegistry;
}): Promise<SqsEmulator> {
  // createSqsServer, but with the service at hand: its queues' backlog counts are corrected.
  const { service, requestHandler } = createRequestHandler({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    region: options.region,
    accountId: '000000000000',
    emulateQueueCreationLifecycle: false,
  });
  const server = createServer((req, res) => {
    correctBacklogCounts(service);
    void requestHandler(req, res);
  });
  options.senders?.attach(server);
  const port = await listen(server, options.port ?? 0);
  // Queue URLs carry the port the emulator listens on (createSqsServer sets it the same way).
  service.PORT = port;
  return { port, close: () => closeServer(server), accept: (c) => server.emit('connection', c) };
}

export interface StageResources {
  nodesTable: string;
  runsTable: string;
  eventsTable: string;
  lifecycleTable: string;
  repliesQueueUrl: string;
  repliesQueueArn: string;
  deadLetterQueueUrl: string;
}

/** Creates the stage's tables and queues (idempotent for queues; tables only when missing). */
export async function createStageResources(
  stage: string,
  clients: { dynamo: DynamoDBClient; sqs: SQSClient },
): Promise<StageResources> {
  const nodesTable = `drover-${stage}-nodes`;
  const runsTable = `drover-${stage}-runs`;
  const eventsTable = `drover-${stage}-events`;
  const lifecycleTable = `drover-${stage}-lifecycle`;
  await createTable(clients.dynamo, nodesTable, [{ AttributeName: 'nodeId', KeyType: 'HASH' }]);
  await createTable(
    clients.dynamo,
    runsTable,
    [
      { AttributeName: 'runId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    // As serverless.yml declares it: node items by when their result landed (sparse).
    {
      IndexName: RESULTS_INDEX,
      KeySchema: [
        { AttributeName: 'runId', KeyType: 'HASH' },
        { AttributeName: 'resultAt', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'KEYS_ONLY' },
    },
  );
  await createTable(clients.dynamo, eventsTable, [
    { AttributeName: 'day', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ]);
  await createTable(clients.dynamo, lifecycleTable, [
    { AttributeName: 'asg', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ]);
  const dlq = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: `drover-${stage}-replies-dlq`,
      Attributes: { MessageRetentionPeriod: '1209600', MaximumMessageSize: MAX_REPLY_BYTES },
    }),
  );
  const dlqArn = await queueArn(clients.sqs, dlq.QueueUrl!);
  const replies = await clients.sqs.send(
    new CreateQueueCommand({
      QueueName: `drover-${stage}-replies`,
      Attributes: {
        VisibilityTimeout: '10',
        MaximumMessageSize: MAX_REPLY_BYTES,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
      },
    }),
  );
  return {
    nodesTable,
    runsTable,
    eventsTable,
    lifecycleTable,
    repliesQueueUrl: replies.QueueUrl!,
    repliesQueueArn: await queueArn(clients.sqs, replies.QueueUrl!),
    deadLetterQueueUrl: dlq.QueueUrl!,
  };
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return out.Attributes?.QueueArn ?? '';
}

async function createTable(
  db: DynamoDBClient,
  name: string,
  keys: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[],
  index?: GlobalSecondaryIndex,
): Promise<void> {
  const indexKeys = (index?.KeySchema ?? []).filter(
    (k) => !keys.some((t) => t.AttributeName === k.AttributeName),
  );
  try {
    await db.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: keys,
        AttributeDefinitions: [
          ...keys.map((k) => ({ AttributeName: k.AttributeName, AttributeType: 'S' as const })),
          // The index's own keys are numbers (times).
          ...indexKeys.map((k) => ({ AttributeName: k.AttributeName!, AttributeType: 'N' as const })),
        ],
        ...(index ? { GlobalSecondaryIndexes: [index] } : {}),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error: unknown) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
}
