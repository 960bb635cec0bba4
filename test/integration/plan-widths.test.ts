/**
 * Plan's widest read and write (shared/large-fleet.ts: 32 scan segments, 32 BatchWriteItem
 * requests in flight) against the local DynamoDB: the emulator accepts them, the scan reads every
 * node exactly once across pages and segments, and every node item of the run is written.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateQuery, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pLimit from 'p-limit';
import { startDynalite, type Closable } from '#local/emulators.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { nodeSk } from '#shared/runs-table.ts';
import { SCAN_SEGMENTS, WRITES_IN_FLIGHT } from '#shared/large-fleet.ts';
import { nodeItem } from '../helpers/factories.ts';

const HOSTS = 1200;
let dynalite: Closable;
let client: DynamoDBClient;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  dynalite = await startDynalite();
  client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${dynalite.port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  db = DynamoDBDocumentClient.from(client);
  await client.send(
    new CreateTableCommand({
      TableName: 'nodes',
      AttributeDefinitions: [{ AttributeName: 'nodeId', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'nodeId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await client.send(
    new CreateTableCommand({
      TableName: 'runs',
      AttributeDefinitions: [
        { AttributeName: 'runId', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'runId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // 1,200 hosts with 2 KB of facts: 2.4 MB, several 1 MB pages over the table.
  const limit = pLimit(16);
  await Promise.all(
    Array.from({ length: HOSTS }, (_, i) =>
      limit(() =>
        db.send(
          new PutCommand({
            TableName: 'nodes',
            Item: nodeItem({ nodeId: `i-${String(i).padStart(17, '0')}`, facts: { blob: 'x'.repeat(2048) } }),
          }),
        ),
      ),
    ),
  );
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await dynalite?.close();
});

describe("Plan's widest read and write on the local DynamoDB", () => {
  it(`reads every node exactly once in ${SCAN_SEGMENTS.ceiling} segments`, async () => {
    const ids = await new NodesStore(db, 'nodes', SCAN_SEGMENTS.ceiling).select((n) => n.nodeId);

    expect(ids).toHaveLength(HOSTS);
    expect(new Set(ids).size).toBe(HOSTS);
  });

  it(`writes every node item with ${WRITES_IN_FLIGHT.ceiling} requests in flight`, async () => {
    const items = Array.from({ length: 2000 }, (_, i) => ({ runId: 'wide', sk: nodeSk(`n${i}`) }));
    await new RunStore(db, 'runs', WRITES_IN_FLIGHT.ceiling).putMany(items);

    let count = 0;
    const pages = paginateQuery(
      { client: db },
      {
        TableName: 'runs',
        KeyConditionExpression: 'runId = :r',
        ExpressionAttributeValues: { ':r': 'wide' },
        Select: 'COUNT',
      },
    );
    for await (const page of pages) count += page.Count ?? 0;
    expect(count).toBe(2000);
  });
});
