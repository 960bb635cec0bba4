/**
 * The local TTL (local/ttl-sweeper.ts): each step reads one page from where the last stopped,
 * deletes the expired items in it and nothing else, a pass wraps around to catch what expired
 * since, and an item given a new TTL between the scan and the delete stays (as in AWS).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDynalite, type Closable } from '#local/emulators.ts';
import { sweepExpired, TtlSweeper } from '#local/ttl-sweeper.ts';

let dynalite: Closable;
let raw: DynamoDBClient;
let db: DynamoDBDocumentClient;
let table = '';
let tables = 0;
const NOW = 1_800_000_000;

beforeAll(async () => {
  dynalite = await startDynalite();
  raw = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${dynalite.port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  db = DynamoDBDocumentClient.from(raw);
});

afterAll(async () => {
  raw?.destroy();
  await dynalite?.close();
});

beforeEach(async () => {
  table = `ttl-${++tables}`;
  await raw.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

/** `count` items `<prefix>-<i>`, expiring at `expiresAt`. */
async function putItems(prefix: string, count: number, expiresAt: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await db.send(new PutCommand({ TableName: table, Item: { id: `${prefix}-${i}`, expiresAt } }));
  }
}

const ids = async () =>
  ((await db.send(new ScanCommand({ TableName: table }))).Items ?? []).map((i) => i.id as string).sort();

describe('local TTL sweeper', () => {
  it('deletes the expired items a page at a time, and only those', async () => {
    await putItems('old', 12, NOW - 1);
    await putItems('live', 13, NOW + 60);
    await db.send(new PutCommand({ TableName: table, Item: { id: 'no-ttl' } }));
    const sweeper = new TtlSweeper(db, table, ['id'], 10);

    const first = await sweeper.step(NOW);
    expect(first.passDone).toBe(false);
    expect(first.removed).toBeLessThanOrEqual(10);
    expect(await ids()).toHaveLength(26 - first.removed);

    let removed = first.removed;
    for (let i = 0; i < 3; i++) removed += (await sweeper.step(NOW)).removed;
    expect(removed).toBe(12);
    expect((await ids()).filter((id) => id.startsWith('old'))).toEqual([]);
    expect(await ids()).toHaveLength(14);
  });

  it('starts over once a pass is done, catching what expired since', async () => {
    await putItems('a', 5, NOW + 30);
    const sweeper = new TtlSweeper(db, table, ['id'], 100);
    expect(await sweeper.step(NOW)).toEqual({ removed: 0, passDone: true });

    expect(await sweeper.step(NOW + 31)).toEqual({ removed: 5, passDone: true });
    expect(await ids()).toEqual([]);
  });

  it('keeps an item written again with a new TTL between the scan and the delete', async () => {
    await putItems('renewed', 1, NOW - 1);
    // The write lands after the sweeper read the page and before it deletes.
    const racing = {
      send: async (command: unknown) => {
        const out = await db.send(command as ScanCommand);
        if (command instanceof ScanCommand) {
          await db.send(
            new UpdateCommand({
              TableName: table,
              Key: { id: 'renewed-0' },
              UpdateExpression: 'SET expiresAt = :later',
              ExpressionAttributeValues: { ':later': NOW + 3600 },
            }),
          );
        }
        return out;
      },
    } as unknown as DynamoDBDocumentClient;

    expect(await new TtlSweeper(racing, table, ['id']).step(NOW)).toEqual({ removed: 0, passDone: true });
    expect(await ids()).toEqual(['renewed-0']);
  });

  it('sweeps a whole table in one call with sweepExpired', async () => {
    await putItems('x', 7, NOW - 5);
    await putItems('y', 3, NOW + 5);
    expect(await sweepExpired(db, table, ['id'], NOW)).toBe(7);
    expect(await ids()).toEqual(['y-0', 'y-1', 'y-2']);
  });
});
