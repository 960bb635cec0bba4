/**
 * Micro-benchmark of the reply ledger's DynamoDB side (issue 18.2): CPU per reply of
 * `ReplyLedger.record` against in-process dynalite (client and emulator in this one thread, as in
 * the local stack), for deliveries of 10 acks then 10 results of a dispatched 1,000-host batch.
 *
 *   node --import tsx bench/ledger-micro.ts [--hosts 1000] [--rounds 3] [--redelivered]
 *
 * Prints CPU (user + system) per reply for each round; the first round pays for compiling.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createPlainDynamoClient } from '#shared/aws.ts';
import { ReplyLedger } from '#functions/run/reply-ledger.ts';
import { createStageResources, startDynalite } from '../local/emulators.ts';
import { startSqs } from '../local/emulators.ts';
import { SQSClient } from '@aws-sdk/client-sqs';
import { planBatch, planItems } from '#functions/run/batch-plan.ts';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { RunReply } from '#functions/run/reply-transitions.ts';
import { ackReply, resultReply } from '../test/helpers/factories.ts';

const { values } = parseArgs({
  options: { hosts: { type: 'string' }, rounds: { type: 'string' }, redelivered: { type: 'boolean' } },
});
// --redelivered: every reply as if delivered again (the ledger reads the batch item each time).
const first = values.redelivered !== true;
const hosts = Number(values.hosts ?? 1000);
const rounds = Number(values.rounds ?? 3);
const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
const region = 'us-east-1';

const dynalite = await startDynalite();
const sqs = await startSqs({ region });
const endpoint = `http://127.0.0.1:${dynalite.port}`;
const raw = new DynamoDBClient({ region, endpoint, credentials });
const doc = DynamoDBDocumentClient.from(raw);
const sqsClient = new SQSClient({ region, endpoint: `http://127.0.0.1:${sqs.port}`, credentials });
const { runsTable } = await createStageResources('micro', { dynamo: raw, sqs: sqsClient });
const plain = createPlainDynamoClient({ region, endpoints: { dynamodb: endpoint }, credentials });
// Calls by operation, to say what a reply costs in calls as well as CPU.
const calls = new Map<string, number>();
const send = plain.send.bind(plain);
plain.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
  calls.set(command.constructor.name, (calls.get(command.constructor.name) ?? 0) + 1);
  return (send as (...args: unknown[]) => unknown)(command, ...rest);
}) as typeof plain.send;
// Step Functions is not there: a release's SendTaskSuccess answers at once.
const sfn = { send: () => Promise.resolve({}) } as unknown as SFNClient;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

for (let round = 0; round < rounds; round++) {
  const runId = `01MICRO${String(round).padStart(19, '0')}`;
  const ids = Array.from({ length: hosts }, (_, i) => `i-${String(i).padStart(17, '0')}`);
  const targets = ids.map((nodeId) => ({
    nodeId,
    identity: nodeId,
    inbox: `http://127.0.0.1:1/000000000000/n-${nodeId}`,
  }));
  const items = planItems(planBatch(runId, 0, targets, 500, Math.floor(Date.now() / 1000) + 3600));
  items[0] = { ...items[0], dispatchedAt: Date.now() };
  for (let i = 0; i < items.length; i += 25) {
    await doc.send(
      new BatchWriteCommand({
        RequestItems: { [runsTable]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
  const ledger = new ReplyLedger({ db: plain, sfn, table: runsTable, now: Date.now });
  const group = (i: number): number => Math.floor(i / 500);
  const replies = (type: 'ack' | 'result'): RunReply[] =>
    ids.map((nodeId, i) =>
      type === 'ack'
        ? ackReply({ runId, group: group(i), nodeId, identity: nodeId, sentAt: Date.now() })
        : resultReply({ runId, group: group(i), nodeId, identity: nodeId, sentAt: Date.now() }),
    );
  calls.clear();
  const start = cpuMs();
  for (const type of ['ack', 'result'] as const) {
    // Each wait registered as the state machine does (the fake Step Functions accepts its release).
    await ledger.registerWait(runId, 0, type === 'ack' ? 'acks' : 'results', `token-${type}`);
    const all = replies(type);
    // Four deliveries at a time, as the stack's four ingest pollers.
    for (let i = 0; i < all.length; i += 40) {
      await Promise.all(
        [0, 10, 20, 30].map(async (k) => {
          const slice = all.slice(i + k, i + k + 10);
          if (slice.length === 0) return;
          const out = await ledger.record(
            slice,
            slice.map(() => Date.now()),
            slice.map(() => first),
          );
          if (out.some((o) => o !== 'recorded')) throw new Error(`not recorded: ${JSON.stringify(out)}`);
        }),
      );
    }
  }
  const used = cpuMs() - start;
  console.log(
    `round ${round + 1}: ${(used / (2 * hosts)).toFixed(3)} ms CPU per reply (${used.toFixed(0)} ms for ${2 * hosts}; calls ${[...calls].map(([k, v]) => `${k} ${v}`).join(', ')})`,
  );
}
plain.destroy();
raw.destroy();
sqsClient.destroy();
await dynalite.close();
await sqs.close();
