/**
 * Pinned by patches/dynalite+4.0.0.patch: dynalite parses an expression once per (expression,
 * attribute names, the types of its values) and reuses the parse (with each request's values:
 * dynalite-parse-rebind.test.ts). Reusing it must
 * change nothing DynamoDB would answer: a condition is judged with the values of the request, and
 * a name or value the request does not use is refused on a reused parse as on a fresh one.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type Closable } from '#local/emulators.ts';

let dynalite: Closable;
let db: DynamoDBClient;
const TableName = 'parse-cache';

beforeAll(async () => {
  dynalite = await startDynalite();
  db = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${dynalite.port}`,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await db.send(
    new CreateTableCommand({
      TableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  db?.destroy();
  await dynalite?.close();
});

const put = (pk: string, status: string) =>
  db.send(new PutItemCommand({ TableName, Item: { pk: { S: pk }, status: { S: status } } }));

/** `SET x = :x` on `pk` if its status is `:p` (the condition alone uses #s and :p). */
const update = (pk: string, p: string, x: string, extra: Partial<UpdateItemCommandInput> = {}) =>
  db.send(
    new UpdateItemCommand({
      TableName,
      Key: { pk: { S: pk } },
      UpdateExpression: 'SET x = :x',
      ConditionExpression: '#s = :p',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':p': { S: p }, ':x': { S: x }, ...extra.ExpressionAttributeValues },
    }),
  );

const xOf = async (pk: string) =>
  (await db.send(new GetItemCommand({ TableName, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item?.x?.S;

describe('dynalite condition parses reused (patched)', () => {
  it('judges a repeated condition with each request’s values', async () => {
    await put('a', 'acked');
    for (let i = 0; i < 3; i++) {
      await expect(update('a', 'pending', `no-${i}`)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await update('a', 'acked', `yes-${i}`);
      expect(await xOf('a')).toBe(`yes-${i}`);
    }
  });

  it('counts the names and values only the condition uses as used, on a reused parse too', async () => {
    await put('b', 'pending');
    // Same condition, names and values each time (the parse is reused from the second on); the
    // update expression uses neither #s nor :p, so only the replayed condition marks them used.
    for (let i = 0; i < 3; i++) {
      await db.send(
        new UpdateItemCommand({
          TableName,
          Key: { pk: { S: 'b' } },
          UpdateExpression: `SET x = :x${i}`,
          ConditionExpression: '#s = :p',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':p': { S: 'pending' }, [`:x${i}`]: { S: `v${i}` } },
        }),
      );
    }
    expect(await xOf('b')).toBe('v2');
  });

  it('resolves a repeated condition with each request’s attribute names', async () => {
    await put('e', 'acked');
    const condition = (name: string) =>
      db.send(
        new UpdateItemCommand({
          TableName,
          Key: { pk: { S: 'e' } },
          UpdateExpression: 'SET y = :p',
          ConditionExpression: '#s = :p',
          ExpressionAttributeNames: { '#s': name },
          ExpressionAttributeValues: { ':p': { S: 'acked' } },
        }),
      );
    await condition('status');
    await condition('status');
    await expect(condition('missing')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await condition('y');
  });

  it('still refuses a value no expression uses, on a fresh and on a reused parse', async () => {
    await put('c', 'pending');
    for (let i = 0; i < 2; i++) {
      await expect(
        update('c', 'pending', 'x', { ExpressionAttributeValues: { ':unused': { S: 'u' } } }),
      ).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining('Value provided in ExpressionAttributeValues unused in expressions'),
      });
    }
    expect(await xOf('c')).toBeUndefined();
  });

  it('still refuses a condition naming an undefined attribute name, each time', async () => {
    await put('d', 'pending');
    for (let i = 0; i < 2; i++) {
      await expect(
        db.send(
          new UpdateItemCommand({
            TableName,
            Key: { pk: { S: 'd' } },
            UpdateExpression: 'SET x = :x',
            ConditionExpression: '#nope = :x',
            ExpressionAttributeValues: { ':x': { S: 'x' } },
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationException' });
    }
  });
});
