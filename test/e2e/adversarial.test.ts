/**
 * An adversarial suite: a host that lies, against the local stack with two honest real agents.
 * The liar signs as its own local agent session (`LOCALAGENT.adv-liar`), as a compromised host
 * would use its own instance role, and tries: a forged node id, another host's reply, results for
 * a run or batch it is not in, a replayed request, malformed and oversized messages, a heartbeat
 * naming a foreign inbox, and a regex bomb in its facts. The suite prints attempts, refused and
 * accepted wrongly, which must be 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { createSqsClient } from '#shared/aws.ts';
import { newRunId } from '#shared/ids.ts';
import { localAgentKey } from '#shared/local-principals.ts';
import { MESSAGE_VERSION, type InboxMessage, type RunRequestInput } from '#shared/messages.ts';
import type { NodeItem, NodeRunItem } from '#shared/runs-table.ts';
import { inboxQueueName, inboxQueueUrl } from '#shared/stage-config.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { startAgent, stopAll, type AgentProcess } from '../helpers/processes.ts';
import { runNodeOf } from '../helpers/run-seed.ts';

const LIAR = 'adv-liar';
const HONEST = ['adv-web-1', 'adv-web-2'];
/** A fact that makes `^(a+)+$` backtrack for about 2^3000 steps in a backtracking engine. */
const BOMB = `${'a'.repeat(3000)}!`;

let t: TestStack;
let liar: SQSClient;
let liarInbox = '';
let fake: { server: Server; url: string; requests: number };
const agents: AgentProcess[] = [];
const tally = { attempts: 0, refused: 0, wrongly: [] as string[] };
let seq = 0;

async function node(nodeId: string): Promise<NodeItem | undefined> {
  const out = await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId } }));
  return out.Item as NodeItem | undefined;
}

async function nodeOfRun(runId: string, nodeId: string): Promise<NodeRunItem | undefined> {
  return runNodeOf(t.db, t.stack.file.runsTable, runId, nodeId);
}

function heartbeat(overrides: Record<string, unknown> = {}) {
  return {
    v: MESSAGE_VERSION,
    type: 'heartbeat',
    nodeId: LIAR,
    identity: LIAR,
    sentAt: Date.now(),
    inbox: liarInbox,
    facts: { role: 'adv', motd: BOMB, seq },
    classes: [],
    agentVersion: 'liar',
    heartbeatSec: 60,
    startedAt: Date.now(),
    ...overrides,
  };
}

async function send(body: unknown): Promise<void> {
  await liar.send(
    new SendMessageCommand({
      QueueUrl: t.stack.file.repliesQueueUrl,
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/**
 * Sends the liar's own, honest heartbeat with the next sequence number and waits until ingest
 * has recorded it: messages sent before it have had their turn by then (with some slack for the
 * event source's parallel pollers).
 */
async function settle(): Promise<void> {
  seq++;
  await send(heartbeat());
  await eventually(async () => ((await node(LIAR))?.facts.seq === seq ? true : undefined), 20_000, 'ingest');
  await new Promise((r) => setTimeout(r, 1_000));
}

/** One attack: `act` tries it, `refused` says whether the system held. */
async function attempt(name: string, act: () => Promise<void>, refused: () => Promise<boolean>) {
  tally.attempts++;
  await act();
  await settle();
  if (await refused()) tally.refused++;
  else tally.wrongly.push(name);
}

async function startRun(input: Omit<RunRequestInput, 'runId' | 'caller'>): Promise<string> {
  const runId = newRunId();
  await t.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: t.stack.file.stateMachines.run,
      name: runId,
      input: JSON.stringify({ runId, caller: 'adversarial-suite', ...input }),
    }),
  );
  return runId;
}

async function finished(runId: string) {
  const executionArn = `${t.stack.file.stateMachines.run!.replace(':stateMachine:', ':execution:')}:${runId}`;
  return eventually(
    async () => {
      const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    },
    60_000,
    `run ${runId} to finish`,
  );
}

/** The next message in the liar's inbox (a signed request Dispatch sent it). */
async function liarReceives(): Promise<InboxMessage> {
  return eventually(
    async () => {
      const out = await liar.send(
        new ReceiveMessageCommand({ QueueUrl: liarInbox, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
      );
      const body = out.Messages?.[0]?.Body;
      return body === undefined ? undefined : (JSON.parse(body) as InboxMessage);
    },
    20_000,
    'a request in the liar inbox',
  );
}

beforeAll(async () => {
  t = await startTestStack();
  fake = { server: createServer(), url: '', requests: 0 };
  fake.server.on('request', (_req, res) => {
    fake.requests++;
    res.end('{}');
  });
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;

  for (const identity of HONEST) agents.push(startAgent(t.home, { identity, facts: { role: 'adv' } }));
  liar = createSqsClient({
    region: t.stack.file.region,
    endpoints: t.stack.file.endpoints,
    credentials: { accessKeyId: localAgentKey([LIAR]), secretAccessKey: 'x' },
  });
  const stage = t.stack.file.stage;
  liarInbox = (await liar.send(new CreateQueueCommand({ QueueName: inboxQueueName(stage, LIAR) }))).QueueUrl!;
  expect(liarInbox).toBe(inboxQueueUrl(t.stack.file.repliesQueueUrl, stage, LIAR));
  await settle();
  for (const nodeId of HONEST) await eventually(() => node(nodeId), 30_000, `${nodeId} to join`);
}, 90_000);

afterAll(async () => {
  liar?.destroy();
  await stopAll();
  await new Promise((r) => fake?.server.close(r));
  await t?.stop();
});

describe('a lying host against the local stack', () => {
  it('gets nothing it should not: attempts, refused, accepted wrongly = 0', async () => {
    const stage = t.stack.file.stage;

    await attempt(
      'heartbeat under another node id',
      () =>
        send(
          heartbeat({
            nodeId: 'adv-web-1',
            identity: 'adv-web-1',
            inbox: inboxQueueUrl(t.stack.file.repliesQueueUrl, stage, 'adv-web-1'),
            facts: { role: 'evil' },
          }),
        ),
      async () => (await node('adv-web-1'))?.facts.role === 'adv',
    );

    await attempt(
      "another host's heartbeat sent with an operator's credentials",
      () =>
        t.sqs
          .send(
            new SendMessageCommand({
              QueueUrl: t.stack.file.repliesQueueUrl,
              MessageBody: JSON.stringify(
                heartbeat({
                  nodeId: 'adv-web-2',
                  identity: 'adv-web-2',
                  inbox: inboxQueueUrl(t.stack.file.repliesQueueUrl, stage, 'adv-web-2'),
                  facts: { role: 'evil' },
                }),
              ),
            }),
          )
          .then(() => undefined),
      async () => (await node('adv-web-2'))?.facts.role === 'adv',
    );

    await attempt(
      'heartbeat naming a foreign inbox',
      () => send(heartbeat({ inbox: `${fake.url}/000000000000/${inboxQueueName(stage, LIAR)}` })),
      async () => (await node(LIAR))?.inbox === liarInbox,
    );

    await attempt(
      'oversized facts (over 200 KB, within one SQS message)',
      () => send(heartbeat({ facts: { role: 'adv', blob: 'x'.repeat(210 * 1024), seq: -1 } })),
      async () => (await node(LIAR))?.facts.blob === undefined,
    );

    // A run on every role=adv host, the liar included, whose honest results take 2 s.
    const r1 = await startRun({
      command: { shell: 'sleep 2; echo honest' },
      filter: { fact: ['role=adv'] },
      options: { discoveryTimeoutSec: 5, timeoutSec: 30 },
    });
    const request = await liarReceives();
    expect(fake.requests).toBe(0);

    await attempt(
      "another host's result",
      () =>
        send({
          v: MESSAGE_VERSION,
          type: 'result',
          nodeId: 'adv-web-1',
          identity: 'adv-web-1',
          sentAt: Date.now(),
          runId: r1,
          batch: 0,
          exitCode: 99,
          signal: null,
          timedOut: false,
          stdout: { text: 'forged\n', bytes: 7, truncated: false },
          stderr: { text: '', bytes: 0, truncated: false },
          startedAt: Date.now(),
          endedAt: Date.now(),
        }),
      async () => {
        await finished(r1);
        const web1 = await nodeOfRun(r1, 'adv-web-1');
        return web1?.exitCode === 0 && web1.stdout?.text === 'honest\n';
      },
    );

    await attempt(
      'a malformed result for its own node',
      () =>
        send({
          v: MESSAGE_VERSION,
          type: 'result',
          nodeId: LIAR,
          identity: LIAR,
          runId: r1,
          batch: 0,
          exitCode: 'zero',
        }),
      async () => (await nodeOfRun(r1, LIAR))?.status !== 'succeeded',
    );

    await attempt(
      'a message that is not JSON',
      () => send('{"v":1,"type":"ack",'),
      async () => (await nodeOfRun(r1, LIAR))?.status === 'no_response',
    );

    await attempt(
      'its signed request replayed into another host as that host',
      async () => {
        const replay: InboxMessage = { ...request, nodeId: 'adv-web-1' };
        await liar.send(
          new SendMessageCommand({
            QueueUrl: inboxQueueUrl(t.stack.file.repliesQueueUrl, stage, 'adv-web-1'),
            MessageBody: JSON.stringify(replay),
          }),
        );
      },
      async () =>
        eventually(
          async () => {
            const audit = readFileSync(`${agents[0]!.stateDir}/audit.jsonl`, 'utf8')
              .trim()
              .split('\n')
              .map((line) => JSON.parse(line) as { decision: string; runId?: string; reason?: string });
            // Refused: its target proof is the liar's, not adv-web-1's (or, were the proof
            // adv-web-1's own, as a replay, or once its acknowledgement window closed, as expired).
            const dropped = audit.some(
              (a) =>
                a.runId === r1 &&
                ((a.decision === 'dropped' && /replay|not among the signed targets/.test(a.reason ?? '')) ||
                  (a.decision === 'rejected' && /^expired/.test(a.reason ?? ''))),
            );
            const accepted = audit.filter((a) => a.runId === r1 && a.decision === 'accepted').length;
            return dropped ? accepted === 1 : undefined;
          },
          20_000,
          'the replay to be audited',
        ),
    );

    // A run the liar is not part of.
    const r2 = await startRun({
      command: { shell: 'echo only-web-2' },
      filter: { identity: ['adv-web-2'] },
      options: { discoveryTimeoutSec: 5, timeoutSec: 30 },
    });
    await attempt(
      'a result for a run it is not in',
      () =>
        send({
          v: MESSAGE_VERSION,
          type: 'result',
          nodeId: LIAR,
          identity: LIAR,
          sentAt: Date.now(),
          runId: r2,
          batch: 0,
          exitCode: 0,
          signal: null,
          timedOut: false,
          stdout: { text: 'me too\n', bytes: 7, truncated: false },
          stderr: { text: '', bytes: 0, truncated: false },
          startedAt: Date.now(),
          endedAt: Date.now(),
        }),
      async () => {
        await finished(r2);
        const web2 = await nodeOfRun(r2, 'adv-web-2');
        return (await nodeOfRun(r2, LIAR)) === undefined && web2?.stdout?.text === 'only-web-2\n';
      },
    );

    await attempt(
      'an ack for a batch that does not exist',
      () =>
        send({
          v: MESSAGE_VERSION,
          type: 'ack',
          nodeId: LIAR,
          identity: LIAR,
          sentAt: Date.now(),
          runId: r1,
          batch: 7,
        }),
      async () => (await nodeOfRun(r1, LIAR))?.status === 'no_response',
    );

    let bombRun = '';
    await attempt(
      'a regex bomb in its facts, selected with a backtracking pattern',
      async () => {
        bombRun = await startRun({
          command: { shell: 'true' },
          filter: { fact: ['role=adv', 'motd=/^(a+)+$/'] },
          options: { discoveryTimeoutSec: 2, timeoutSec: 10 },
        });
      },
      async () => {
        const done = await finished(bombRun);
        return done.status === 'SUCCEEDED' && (await nodeOfRun(bombRun, LIAR)) === undefined;
      },
    );

    await attempt(
      'a foreign inbox URL to receive requests',
      async () => {
        await startRun({
          command: { shell: 'true' },
          filter: { identity: [LIAR] },
          options: { discoveryTimeoutSec: 2 },
        });
        await liarReceives();
      },
      async () => fake.requests === 0,
    );

    console.info(
      `adversarial suite: ${tally.attempts} attempts, ${tally.refused} refused, ${tally.wrongly.length} accepted wrongly${tally.wrongly.length ? ` (${tally.wrongly.join('; ')})` : ''}`,
    );
    expect(tally.wrongly).toEqual([]);
    expect(tally.refused).toBe(tally.attempts);
  }, 240_000);
});
