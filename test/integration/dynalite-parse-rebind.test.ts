/**
 * Pinned by patches/dynalite+4.0.0.patch: a parse is reused across requests whose values differ
 * but have the same types (a heartbeat's time, a reply's fields), with each request's own values
 * put in. It must answer as DynamoDB does: every request judged and written with its own values,
 * a value of another type checked again, and where the parse reads a value's content (BETWEEN's
 * bounds, attribute_type's type name) a bad one refused after a good one was parsed.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite, type Closable } from '#local/emulators.ts';

let dynalite: Closable;
let db: DynamoDBClient;
const TableName = 'parse-rebind';

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

const item = async (pk: string) =>
  (await db.send(new GetItemCommand({ TableName, Key: { pk: { S: pk } }, ConsistentRead: true }))).Item;

/** An update of `pk` with the given expressions (names: #a → at, #n → n, #s → status). */
const update = (
  pk: string,
  expressions: { update: string; condition?: string },
  values: Record<string, AttributeValue>,
) =>
  db.send(
    new UpdateItemCommand({
      TableName,
      Key: { pk: { S: pk } },
      UpdateExpression: expressions.update,
      ...(expressions.condition ? { ConditionExpression: expressions.condition } : {}),
      ExpressionAttributeNames: Object.fromEntries(
        Object.entries({ '#a': 'at', '#n': 'n', '#s': 'status' }).filter(([k]) =>
          `${expressions.update} ${expressions.condition ?? ''}`.includes(k),
        ),
      ),
      ExpressionAttributeValues: values,
    }),
  );

const N = (n: number): AttributeValue => ({ N: String(n) });
const S = (s: string): AttributeValue => ({ S: s });

describe('dynalite parses reused with each request’s values (patched)', () => {
  it('judges a time condition with each request’s time, as heartbeats send it', async () => {
    const beat = (sent: number) =>
      update(
        'hb',
        { update: 'SET #a = :sent', condition: 'attribute_not_exists(#a) OR #a < :sent' },
        {
          ':sent': N(sent),
        },
      );
    await beat(100);
    await beat(200);
    await expect(beat(150)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await beat(300);
    expect((await item('hb'))?.at).toEqual(N(300));
  });

  it('writes each request’s own values with a reused update expression', async () => {
    const add = (pk: string, n: number, tag: string) =>
      update(
        pk,
        { update: 'ADD #n :n SET x = if_not_exists(x, :tag), y = :tag' },
        { ':n': N(n), ':tag': S(tag) },
      );
    await add('u1', 1, 'first');
    await add('u1', 2, 'second');
    await add('u2', 40, 'other');
    expect(await item('u1')).toMatchObject({ n: N(3), x: S('first'), y: S('second') });
    expect(await item('u2')).toMatchObject({ n: N(40), x: S('other'), y: S('other') });
  });

  it('checks a value of another type again: a string to ADD is refused after numbers were added', async () => {
    await update('t', { update: 'ADD #n :n' }, { ':n': N(1) });
    await expect(update('t', { update: 'ADD #n :n' }, { ':n': S('1') })).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Incorrect operand type for operator or function'),
    });
    await expect(
      update('t', { update: 'SET x = :x', condition: 'begins_with(#s, :p)' }, { ':x': S('x'), ':p': N(1) }),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    expect((await item('t'))?.n).toEqual(N(1));
  });

  it('refuses BETWEEN bounds in the wrong order after a parse with good ones', async () => {
    await db.send(new PutItemCommand({ TableName, Item: { pk: S('b'), n: N(5) } }));
    const between = (lo: number, hi: number) =>
      update(
        'b',
        { update: 'SET x = :lo', condition: '#n BETWEEN :lo AND :hi' },
        { ':lo': N(lo), ':hi': N(hi) },
      );
    await between(1, 10);
    await expect(between(10, 1)).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('BETWEEN operator requires upper bound to be greater than or equal'),
    });
    await expect(between(6, 10)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('refuses an unknown attribute_type name after a parse with a known one', async () => {
    await db.send(new PutItemCommand({ TableName, Item: { pk: S('at'), n: N(5) } }));
    const typed = (type: string) =>
      update(
        'at',
        { update: 'SET x = :x', condition: 'attribute_type(#n, :t)' },
        { ':x': S('x'), ':t': S(type) },
      );
    await typed('N');
    await expect(typed('S')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await expect(typed('NUMBER')).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Invalid attribute type name found'),
    });
  });
});
