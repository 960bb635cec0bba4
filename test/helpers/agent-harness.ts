/**
 * Agents in the test process against a real SQS emulator on 127.0.0.1 (optionally behind a flaky
 * proxy), with a key pair to sign requests and a collector for what lands on the replies queue.
 * Everything it starts is stopped, and its temporary directory removed, by `stop()`.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqs, type Closable } from '#local/emulators.ts';
import { createSqsClient } from '#shared/aws.ts';
import { LocalKeySigner } from '#shared/signing.ts';
import {
  MESSAGE_VERSION,
  replySchema,
  type Reply,
  type ResultReply,
  type SignedRequest,
} from '#shared/messages.ts';
import { Agent, type AgentDeps } from '#agent/agent.ts';
import type { AgentSettings } from '#agent/setup/settings.ts';
import { jsonLog, type AgentLog } from '#agent/json-log.ts';
import { startFlakyProxy, type FlakyProxy } from './flaky-proxy.ts';

export const STAGE = 'test';

/** Picks the result reply of run `runId` from the replies. */
export const isResult =
  (runId: string) =>
  (r: Reply): r is ResultReply =>
    r.type === 'result' && r.runId === runId;
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

export interface AgentHarness {
  dir: string;
  /** The tests' own client, straight to the emulator. */
  sqs: SQSClient;
  /** Where agents send their calls: the proxy when there is one. */
  agentEndpoint: string;
  proxy?: FlakyProxy;
  repliesQueueUrl: string;
  publicKey: KeyObject;
  signer: LocalKeySigner;
  /** Every log line of every agent started here. */
  logs: LogLine[];
  /** Every reply collected so far (call `collectReplies` or `waitForReply` to collect more). */
  replies: Reply[];
  settings(overrides?: Partial<AgentSettings>): AgentSettings;
  startAgent(overrides?: Partial<AgentSettings>, deps?: Partial<AgentDeps>): Promise<Agent>;
  /** Signs `request` and sends it to `inbox` (addressed to `nodeId`, its first target by default). */
  deliver(inbox: string, request: SignedRequest, nodeId?: string): Promise<void>;
  /** Sends a raw body to `inbox`. */
  send(inbox: string, body: string): Promise<void>;
  collectReplies(): Promise<void>;
  waitForReply<T extends Reply>(predicate: (r: Reply) => r is T, timeoutMs?: number): Promise<T>;
  waitForReply(predicate: (r: Reply) => boolean, timeoutMs?: number): Promise<Reply>;
  /** Stops the emulator and starts a fresh, empty one on the same port. */
  stopSqs(): Promise<void>;
  restartSqs(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAgentHarness(options: { proxy?: boolean } = {}): Promise<AgentHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'drover-agent-'));
  let server: Closable | undefined = await startSqs({ region: REGION });
  const port = server.port;
  const direct = `http://127.0.0.1:${port}`;
  const proxy = options.proxy ? await startFlakyProxy(direct) : undefined;
  const sqs = createSqsClient({ region: REGION, endpoints: { sqs: direct }, credentials: CREDENTIALS });
  const agentSqs = createSqsClient({
    region: REGION,
    endpoints: { sqs: proxy?.url ?? direct },
    credentials: CREDENTIALS,
    maxAttempts: 2,
  });
  const createReplies = async () =>
    (await sqs.send(new CreateQueueCommand({ QueueName: `drover-${STAGE}-replies` }))).QueueUrl!;
  const repliesQueueUrl = await createReplies();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = new LocalKeySigner(
    'test-key',
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  );
  const logs: LogLine[] = [];
  const log: AgentLog = jsonLog((line) => logs.push(JSON.parse(line) as LogLine), 'debug');
  const replies: Reply[] = [];
  const agents: Agent[] = [];
  let counter = 0;

  const settings = (overrides: Partial<AgentSettings> = {}): AgentSettings => {
    const nodeId = overrides.nodeId ?? `node-${++counter}`;
    return {
      stage: STAGE,
      nodeId,
      identity: nodeId,
      repliesQueueUrl,
      publicKey,
      stateDir: join(dir, nodeId),
      heartbeatSec: 60,
      factsRefreshSec: 300,
      factFiles: [],
      classFiles: [],
      concurrency: 4,
      outputCapBytes: 65_536,
      killGraceMs: 500,
      // Acks at once, so a test sees every ack; the tests of the delay set their own.
      ackDelayMs: 0,
      shutdownGraceMs: 2_000,
      pollWaitSec: 1,
      agentVersion: 'test',
      commandPath: process.env.PATH ?? '/usr/bin:/bin',
      ...overrides,
    };
  };

  const collectReplies = async () => {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: repliesQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = out.Messages ?? [];
    for (const message of messages) replies.push(replySchema.parse(JSON.parse(message.Body!)));
    if (messages.length === 0) return;
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: repliesQueueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  };

  const harness: AgentHarness = {
    dir,
    sqs,
    agentEndpoint: proxy?.url ?? direct,
    ...(proxy ? { proxy } : {}),
    repliesQueueUrl,
    publicKey,
    signer,
    logs,
    replies,
    settings,
    async startAgent(overrides = {}, deps = {}) {
      const agent = new Agent(settings(overrides), {
        sqs: agentSqs,
        log: log.child({ nodeId: overrides.nodeId }),
        ...deps,
      });
      agents.push(agent);
      await agent.start();
      return agent;
    },
    async deliver(inbox, request, nodeId = request.targets?.[0] ?? 'no-target-listed') {
      const document = JSON.stringify(request);
      const signature = await signer.sign(document);
      await harness.send(inbox, JSON.stringify({ v: MESSAGE_VERSION, nodeId, request: document, signature }));
    },
    async send(inbox, body) {
      await sqs.send(new SendMessageCommand({ QueueUrl: inbox, MessageBody: body }));
    },
    collectReplies,
    async waitForReply(predicate: (r: Reply) => boolean, timeoutMs = 15_000): Promise<Reply> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = replies.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(
            `no matching reply in ${timeoutMs} ms; got ${JSON.stringify(replies.map((r) => r.type))}`,
          );
        }
        await collectReplies().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stopSqs() {
      await server?.close();
      server = undefined;
    },
    async restartSqs() {
      await server?.close();
      server = await startSqs({ region: REGION, port });
      await createReplies();
    },
    async stop() {
      await Promise.allSettled(agents.map((a) => a.stop(0)));
      sqs.destroy();
      agentSqs.destroy();
      await proxy?.close();
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
