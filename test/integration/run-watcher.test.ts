/**
 * A watcher's cost does not grow with the run: after its first read, a poll reads the hosts that
 * landed since, not every host of the run; at the end it reads the run once and reports every
 * host's final status. Real dynalite with the runs table as serverless.yml declares it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createDynamoClient, createSqsClient } from '#shared/aws.ts';
import { createStageResources, startDynalite, startSqs, type Closable } from '#local/emulators.ts';
import { META_SK, nodeSk } from '#shared/runs-table.ts';
import { watchRun, type WatchEvent } from '#cli/run-watcher.ts';
import { nodeRunItem, runMetaItem } from '../helpers/factories.ts';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const RUN_ID = 'RUN-WATCH';
const HOSTS = 200;
const LANDED = 150;

let dynamo: Closable;
let sqsServer: Closable;
let runsTable: string;
let db: ReturnType<typeof createDynamoClient>;
/** Items the watcher's reads returned, by call. */
let itemsRead = 0;
/** The watcher's DynamoDB calls by command name (QueryCommand, GetCommand, …). */
const calls = new Map<string, number>();

beforeAll(async () => {
  dynamo = await startDynalite();
  sqsServer = await startSqs({ region: REGION });
  const endpoints = {
    dynamodb: `http://127.0.0.1:${dynamo.port}`,
    sqs: `http://127.0.0.1:${sqsServer.port}`,
  };
  const tables = new DynamoDBClient({
    region: REGION,
    credentials: CREDENTIALS,
    endpoint: endpoints.dynamodb,
  });
  const sqs = createSqsClient({ region: REGION, credentials: CREDENTIALS, endpoints });
  runsTable = (await createStageResources('watch', { dynamo: tables, sqs })).runsTable;
  tables.destroy();
  sqs.destroy();
  db = createDynamoClient({ region: REGION, credentials: CREDENTIALS, endpoints });
  db.middlewareStack.add(
    (next, context) => async (args) => {
      calls.set(context.commandName ?? '?', (calls.get(context.commandName ?? '?') ?? 0) + 1);
      const out = await next(args);
      const output = out.output as {
        Items?: unknown[];
        Responses?: Record<string, unknown[]>;
        Item?: unknown;
      };
      itemsRead += (output.Items?.length ?? 0) + Object.values(output.Responses ?? {}).flat().length;
      return out;
    },
    { step: 'initialize', name: 'countItemsRead' },
  );
});

afterAll(async () => {
  db?.destroy();
  await dynamo?.close();
  await sqsServer?.close();
});

describe('watchRun', () => {
  it('reads only what landed since its last poll, and ends with every host final', async () => {
    // Prepare: a run of 200 hosts, 150 of which have their result already.
    const landedAt = Date.now() - 60_000;
    await db.send(
      new PutCommand({
        TableName: runsTable,
        Item: runMetaItem({ runId: RUN_ID, status: 'running', expected: HOSTS, summary: undefined }),
      }),
    );
    const items = Array.from({ length: HOSTS }, (_, i) =>
      nodeRunItem({
        runId: RUN_ID,
        sk: nodeSk(`h-${i}`),
        nodeId: `h-${i}`,
        identity: `h-${i}`,
        ...(i < LANDED
          ? { status: 'succeeded', resultAt: landedAt + i * 10, exitCode: 0 }
          : { status: 'pending' }),
      }),
    );
    for (let i = 0; i < items.length; i += 25) {
      await db.send(
        new BatchWriteCommand({
          RequestItems: { [runsTable]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }
    let status = 'RUNNING';
    const sfn = { send: () => Promise.resolve({ status }) } as unknown as SFNClient;
    const conn = { stage: 'watch', runStateMachineArn: '', runsTable, nodesTable: '', db, sfn, close() {} };
    const events = watchRun(conn, RUN_ID, 'arn:exec', { pollMs: 10, sweepEveryMs: 3_600_000 });
    const next = async (): Promise<WatchEvent[]> => {
      const got: WatchEvent[] = [];
      for (;;) {
        const { value } = await events.next();
        got.push(value as WatchEvent);
        if ((value as WatchEvent).type !== 'host') return got;
      }
    };

    // Act
    const first = await next();
    itemsRead = 0;
    const quiet = await next();
    const quietCost = itemsRead;
    await db.send(
      new UpdateCommand({
        TableName: runsTable,
        Key: { runId: RUN_ID, sk: nodeSk('h-160') },
        UpdateExpression: 'SET #s = :s, resultAt = :at',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'failed', ':at': Date.now() },
      }),
    );
    itemsRead = 0;
    const oneMore = await next();
    const oneMoreCost = itemsRead;
    status = 'SUCCEEDED';
    await db.send(
      new UpdateCommand({
        TableName: runsTable,
        Key: { runId: RUN_ID, sk: META_SK },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'succeeded' },
      }),
    );
    const end = [...(await next()), ...(await next())];
    const done = end.at(-1);

    // Assess
    expect(first.filter((e) => e.type === 'host')).toHaveLength(LANDED);
    expect(first.at(-1)).toEqual({ type: 'progress', answered: LANDED, expected: HOSTS });
    expect(quiet).toEqual([{ type: 'progress', answered: LANDED, expected: HOSTS }]);
    // The meta item, and the few hosts that landed within the index's lag window of the last one.
    expect(quietCost).toBeLessThan(10);
    expect(oneMore.filter((e) => e.type === 'host').map((e) => e.type === 'host' && e.node.nodeId)).toEqual([
      'h-160',
    ]);
    expect(oneMoreCost).toBeLessThan(10);
    expect(done).toMatchObject({ type: 'done', execution: { status: 'SUCCEEDED' } });
    expect(done?.type === 'done' && done.nodes).toHaveLength(HOSTS);
  });

  it('once every host is in, polls read the run record only until the run ends', async () => {
    // Prepare: a run of 3 hosts, all landed; the run is still finishing.
    const runId = 'RUN-ALL-IN';
    await db.send(
      new PutCommand({
        TableName: runsTable,
        Item: runMetaItem({ runId, status: 'running', expected: 3, summary: undefined }),
      }),
    );
    for (const i of [0, 1, 2]) {
      await db.send(
        new PutCommand({
          TableName: runsTable,
          Item: nodeRunItem({
            runId,
            sk: nodeSk(`a-${i}`),
            nodeId: `a-${i}`,
            identity: `a-${i}`,
            status: 'succeeded',
            resultAt: Date.now() - 1_000 + i,
            exitCode: 0,
          }),
        }),
      );
    }
    let status = 'RUNNING';
    const sfn = { send: () => Promise.resolve({ status }) } as unknown as SFNClient;
    const conn = { stage: 'watch', runStateMachineArn: '', runsTable, nodesTable: '', db, sfn, close() {} };
    const events = watchRun(conn, runId, 'arn:exec', { pollMs: 10, sweepEveryMs: 0 });
    const upToProgress = async (): Promise<WatchEvent[]> => {
      const got: WatchEvent[] = [];
      for (;;) {
        const { value } = await events.next();
        got.push(value as WatchEvent);
        if ((value as WatchEvent).type === 'progress' || (value as WatchEvent).type === 'done') return got;
      }
    };

    // Act: the poll that sees the three hosts, then three polls with all of them in.
    const first = await upToProgress();
    calls.clear();
    for (let i = 0; i < 3; i++) await upToProgress();
    const whileAllIn = new Map(calls);
    status = 'SUCCEEDED';
    await db.send(
      new UpdateCommand({
        TableName: runsTable,
        Key: { runId, sk: META_SK },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'succeeded' },
      }),
    );
    const end = [...(await upToProgress()), ...(await upToProgress())];

    // Assess
    expect(first.filter((e) => e.type === 'host')).toHaveLength(3);
    expect(Object.fromEntries(whileAllIn)).toEqual({ GetItemCommand: 3 });
    const done = end.at(-1);
    expect(done).toMatchObject({
      type: 'done',
      execution: { status: 'SUCCEEDED' },
      meta: { status: 'succeeded' },
    });
    expect(done?.type === 'done' && done.nodes.map((n) => n.nodeId).sort()).toEqual(['a-0', 'a-1', 'a-2']);
    expect(end.filter((e) => e.type === 'host')).toHaveLength(0);
  });
});
