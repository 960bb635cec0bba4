/**
 * Pinned by patches/dynalite+4.0.0.patch: dynalite keeps a table's decoded description for the
 * item operations, and the size of each number string (items are sized for the 400 KB limit and
 * capacity units on every write), and draws request ids from a pool of random bytes. None may
 * change an answer: a table deleted, or recreated with another key, is seen as it is now by the
 * very next request, sizes (so the capacity units and the item limit) are what they were, and
 * every request has an id of its own.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type Closable } from '#local/emulators.ts';

let dynalite: Closable;
let db: DynamoDBClient;

beforeAll(async () => {
  dynalite = await startDynalite();
  db = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${dynalite.port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  db?.destroy();
  await dynalite?.close();
});

const hashTable = (TableName: string) =>
  new CreateTableCommand({
    TableName,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });

const put = (TableName: string, Item: Record<string, AttributeValue>) =>
  db.send(new PutItemCommand({ TableName, Item, ReturnConsumedCapacity: 'TOTAL' }));

describe('dynalite: table descriptions kept between requests', () => {
  it('answers ResourceNotFoundException right after the table is deleted', async () => {
    await db.send(hashTable('cache-deleted'));
    await put('cache-deleted', { pk: { S: 'a' } });
    await db.send(new GetItemCommand({ TableName: 'cache-deleted', Key: { pk: { S: 'a' } } }));

    await db.send(new DeleteTableCommand({ TableName: 'cache-deleted' }));

    await expect(
      db.send(new GetItemCommand({ TableName: 'cache-deleted', Key: { pk: { S: 'a' } } })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('validates keys against a table recreated with another key schema', async () => {
    await db.send(hashTable('cache-recreated'));
    await put('cache-recreated', { pk: { S: 'a' } });
    await db.send(new GetItemCommand({ TableName: 'cache-recreated', Key: { pk: { S: 'a' } } }));
    await db.send(new DeleteTableCommand({ TableName: 'cache-recreated' }));
    await db.send(
      new CreateTableCommand({
        TableName: 'cache-recreated',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );

    // The old key (no sort key) no longer fits the table's schema.
    await expect(put('cache-recreated', { pk: { S: 'a' } })).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await put('cache-recreated', { pk: { S: 'a' }, sk: { N: '1' } });
  });
});

describe('dynalite: number sizes kept per string', () => {
  it('sizes numbers as before, every time: capacity units cross a kilobyte at the same item', async () => {
    await db.send(hashTable('cache-sizes'));
    // A number's size: 1 byte + 1 per two significant digits (+1 if negative, +1 for an even
    // count with an even exponent): 3 digits, 3 bytes. Each put is a new item (an overwrite is
    // charged the larger of the two).
    let puts = 0;
    const item = (numbers: string[]) => ({ pk: { S: `p${puts++}` }, n: { NS: numbers } });
    const small = Array.from({ length: 300 }, (_, i) => String(i + 100)); // 3 digits: 3 bytes each
    const units = async (numbers: string[]) =>
      (await put('cache-sizes', item(numbers))).ConsumedCapacity?.CapacityUnits;

    // 300 × 3 bytes + "pk" + "p" + "n" ≈ 904 bytes: one unit; 350 × 3 ≈ 1,054: two.
    const first = [
      await units(small),
      await units([...small, ...small.map((n) => String(Number(n) + 300)).slice(0, 50)]),
    ];
    const again = [
      await units(small),
      await units([...small, ...small.map((n) => String(Number(n) + 300)).slice(0, 50)]),
    ];

    expect(first).toEqual([1, 2]);
    expect(again).toEqual(first);
  });

  it('refuses an item over 400 KB of numbers however often its numbers were sized', async () => {
    await db.send(hashTable('cache-limit'));
    // 38-digit numbers: 1 + 19 bytes each; 20,500 of them are 410,000 bytes, over 409,600.
    const big = (i: number) => `1${String(i).padStart(7, '0')}${'7'.repeat(30)}`;
    const numbers = Array.from({ length: 20_500 }, (_, i) => big(i));
    const attempt = () => put('cache-limit', { pk: { S: 'p' }, n: { NS: numbers } });

    await expect(attempt()).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(attempt()).rejects.toMatchObject({ name: 'ValidationException' });
    await put('cache-limit', { pk: { S: 'p' }, n: { NS: numbers.slice(0, 20_000) } });
  });
});

describe('dynalite: request ids from a pool of random bytes', () => {
  it('answers every request with a request id of its own, across refills of the pool', async () => {
    await db.send(hashTable('cache-ids'));
    const ids: string[] = [];
    for (let i = 0; i < 600; i++) {
      const out = await db.send(new GetItemCommand({ TableName: 'cache-ids', Key: { pk: { S: `k${i}` } } }));
      ids.push(out.$metadata.requestId ?? '');
    }

    expect(ids.every((id) => /^[A-Z0-9]{52}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(600);
  });
});
