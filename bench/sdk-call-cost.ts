/**
 * Client CPU of one SDK call as drover builds its clients, against the SDK's stock client:
 * `node --import tsx bench/sdk-call-cost.ts [calls per round] [rounds]`.
 *
 * Both clients answer from a request handler that replies at once (no network, no server), so
 * what is measured is the SDK's own pipeline: middleware, serialisation, SigV4, parsing. The two
 * are interleaved round by round in this one process and the medians compared, because the
 * machine's speed moves from one minute to the next (bench/README.md, "Third round").
 */
import { Readable } from 'node:stream';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols';
import { createPlainDynamoClient } from '#shared/aws.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const endpoint = 'http://127.0.0.1:1';

/** Answers every request at once with a small UpdateItem result. */
const answerAtOnce = {
  metadata: { handlerProtocol: 'http/1.1' },
  handle(_request: HttpRequest) {
    const text = JSON.stringify({ Attributes: { status: { S: 'acked' } } });
    const headers = { 'content-type': 'application/x-amz-json-1.0', 'content-length': String(text.length) };
    return Promise.resolve({
      response: new HttpResponse({ statusCode: 200, headers, body: Readable.from([Buffer.from(text)]) }),
    });
  },
  updateHttpClientConfig() {},
  httpHandlerConfigs: () => ({}),
  destroy() {},
};

/** The SDK's client as it comes (with the middleware cache drover turns on everywhere). */
function stockClient(): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    credentials,
    endpoint,
    maxAttempts: 3,
    cacheMiddleware: true,
    requestHandler: answerAtOnce,
  });
}

function droverClient(): DynamoDBClient {
  const client = createPlainDynamoClient({
    region: 'us-east-1',
    credentials,
    endpoints: { dynamodb: endpoint },
  });
  (client.config as { requestHandler: unknown }).requestHandler = answerAtOnce;
  return client;
}

/** The ledger's per-reply write, in shape. */
const write = () =>
  new UpdateItemCommand({
    TableName: 'runs',
    Key: { runId: { S: '01M8TXBQVS65R0ZCMBGR0C0TAC' }, sk: { S: 'node#i-0123456789abcdef0' } },
    UpdateExpression: 'SET #s = :s',
    ConditionExpression: '#s IN (:a, :b)',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: { ':s': { S: 'succeeded' }, ':a': { S: 'acked' }, ':b': { S: 'sent' } },
    ReturnValues: 'UPDATED_OLD',
  });

async function cpuPerCall(client: DynamoDBClient, calls: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await client.send(write());
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / calls;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 2000);
  const rounds = Number(process.argv[3] ?? 9);
  const clients = { stock: stockClient(), drover: droverClient() };
  const perRound: Record<keyof typeof clients, number[]> = { stock: [], drover: [] };
  for (const client of Object.values(clients)) await cpuPerCall(client, 1000); // compile the hot paths
  for (let round = 0; round < rounds; round++) {
    for (const name of ['stock', 'drover'] as const)
      perRound[name].push(await cpuPerCall(clients[name], calls));
  }
  for (const name of ['stock', 'drover'] as const) {
    const v = perRound[name];
    console.log(
      `${name.padEnd(7)} UpdateItem client CPU per call: median ${median(v).toFixed(1)} µs, ` +
        `min ${Math.min(...v).toFixed(1)} µs (${rounds} rounds of ${calls})`,
    );
    clients[name].destroy();
  }
}

await main();
