/**
 * The simulated fleet: N node items with realistic facts (2–20 KB each) written straight into the
 * nodes table, and light in-process fake agents that answer over the real SQS API. Each host has
 * the inbox Dispatch derives from the stage and its id (`inboxQueueName`), as a real agent does;
 * the fake agents are one long poll per inbox in this process (no process, no heartbeat), and
 * every request is one SQS message, received, deleted, acknowledged and answered one by one, so
 * the per-host request counts are those of a real fleet.
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MESSAGE_VERSION, inboxMessageSchema, signedRequestSchema, type Reply } from '#shared/messages.ts';
import { inboxQueueName } from '#shared/stage-config.ts';
import type { NodeItem } from '#shared/runs-table.ts';

/** Queues created at once while seeding (CreateQueue calls in flight). */
const CREATE_CONCURRENCY = 8;
const FACTS_MIN_BYTES = 2 * 1024;
const FACTS_MAX_BYTES = 20 * 1024;

/** Deterministic [0, 1) numbers, so two simulations of the same size seed the same fleet. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Facts shaped like an agent's (os, network, role, installed packages), of the given size. */
export function realisticFacts(index: number, bytes: number): Record<string, unknown> {
  const facts: Record<string, unknown> = {
    role: ['web', 'db', 'cache', 'worker'][index % 4],
    env: index % 10 === 0 ? 'staging' : 'production',
    group: `cell-${index % 50}`,
    os: { family: 'linux', distro: 'amazon', version: '2023', kernel: '6.1.112-124.190.amzn2023.aarch64' },
    network: {
      hostname: `sim-${index}`,
      ipv4: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
    },
    cpu: { count: 2 + (index % 4) * 2, model: 'Neoverse-N1' },
    packages: [] as string[],
  };
  const packages = facts.packages as string[];
  let size = JSON.stringify(facts).length;
  for (let i = 0; size < bytes; i++) {
    const name = `pkg-${i.toString(36)}-${index % 97}-1.${i % 40}.${i % 7}.aarch64`;
    packages.push(name);
    size += name.length + 3;
  }
  return facts;
}

export interface SimulatedFleet {
  size: number;
  factsBytes: number;
  /** Each host's inbox URL (through the simulation's proxy), in host order. */
  inboxes: string[];
}

/** Writes `size` node items (fresh, heartbeating hourly) and creates the shared inboxes. */
export async function seedFleet(
  size: number,
  deps: {
    db: DynamoDBDocumentClient;
    sqs: SQSClient;
    nodesTable: string;
    stage: string;
    /** The URL node items record for an inbox (the simulation routes it through its proxy). */
    inboxUrl: (url: string) => string;
  },
): Promise<SimulatedFleet> {
  const inboxes: string[] = new Array<string>(size);
  let nextQueue = 0;
  const creator = async () => {
    while (nextQueue < size) {
      const i = nextQueue++;
      const out = await deps.sqs.send(
        new CreateQueueCommand({ QueueName: inboxQueueName(deps.stage, nodeIdOf(i)) }),
      );
      inboxes[i] = deps.inboxUrl(out.QueueUrl!);
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, creator));
  const next = random(size);
  const now = Date.now();
  let factsBytes = 0;
  const items: NodeItem[] = [];
  for (let i = 0; i < size; i++) {
    const facts = realisticFacts(i, FACTS_MIN_BYTES + next() * (FACTS_MAX_BYTES - FACTS_MIN_BYTES));
    factsBytes += JSON.stringify(facts).length;
    items.push({
      nodeId: nodeIdOf(i),
      identity: identityOf(nodeIdOf(i)),
      facts,
      classes: ['base'],
      inbox: inboxes[i]!,
      agentVersion: 'simulated',
      heartbeatSec: 3600,
      lastSeen: now,
      joinedAt: now - i,
      startedAt: now,
      expiresAt: Math.floor(now / 1000) + 86_400,
    });
  }
  await writeAll(deps.db, deps.nodesTable, items);
  return { size, factsBytes, inboxes };
}

async function writeAll(db: DynamoDBDocumentClient, table: string, items: NodeItem[]): Promise<void> {
  const chunks: NodeItem[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let at = 0;
  const worker = async () => {
    while (at < chunks.length) {
      let requests = chunks[at++]!.map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

// As long as an EC2 instance id (19 bytes): the batch's answer sets grow by the id's length.
const nodeIdOf = (index: number) => `i-sim${String(index).padStart(14, '0')}`;
const identityOf = (nodeId: string) => `sim-${String(Number(nodeId.slice(5))).padStart(6, '0')}`;

/** When the fake agents acknowledged: the first and last ack sent. */
export interface AgentTimes {
  firstAckAt?: number;
  lastAckAt?: number;
  answered: number;
}

/** The longest long poll SQS allows, and what an agent asks for (`poll_wait_sec`, default 20). */
export const POLL_WAIT_SEC = 20;

/**
 * The wait of a host's first receive: 1–20 s across the fleet, so the polls renew spread over
 * the 20 s instead of all at once (a real fleet's agents did not start in the same second).
 */
export const firstWaitSec = (host: number) => 1 + (host % POLL_WAIT_SEC);

/**
 * One long poll per host's inbox, of 20 s as an agent's; stop() ends them. Each host has its own
 * abort signal: an AbortSignal checks every listener when one is added, so one signal shared by
 * 10,000 polls made each call O(hosts) (5 % of the process at 2,000 hosts, in the profile). The
 * client given must allow a connection per inbox, or the polls queue behind each other.
 */
export function startFakeAgents(
  fleet: SimulatedFleet,
  deps: { sqs: SQSClient; repliesQueueUrl: string },
): { times: AgentTimes; stop(): Promise<void> } {
  const times: AgentTimes = { answered: 0 };
  let stopped = false;
  const aborts = fleet.inboxes.map(() => new AbortController());
  const answer = answerer(deps, times);
  const poll = async (inbox: string, host: number) => {
    let wait = firstWaitSec(host);
    while (!stopped) {
      try {
        const out = await deps.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: inbox, MaxNumberOfMessages: 10, WaitTimeSeconds: wait }),
          { abortSignal: aborts[host]!.signal },
        );
        wait = POLL_WAIT_SEC;
        await Promise.all((out.Messages ?? []).map((m) => answer(inbox, m.Body!, m.ReceiptHandle!)));
      } catch (error: unknown) {
        if (stopped) return;
        process.stderr.write(`simulated agent: ${String(error)}\n`);
      }
    }
  };
  const loops = fleet.inboxes.map(poll);
  return {
    times,
    stop: async () => {
      stopped = true;
      for (const abort of aborts) abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

/** Handles one request as an agent does: delete it, acknowledge it, answer it (two sends). */
function answerer(deps: { sqs: SQSClient; repliesQueueUrl: string }, times: AgentTimes) {
  const reply = (message: Reply) =>
    deps.sqs.send(
      new SendMessageCommand({ QueueUrl: deps.repliesQueueUrl, MessageBody: JSON.stringify(message) }),
    );
  return async (inbox: string, body: string, receipt: string) => {
    const envelope = inboxMessageSchema.parse(JSON.parse(body));
    const request = signedRequestSchema.parse(JSON.parse(envelope.request));
    await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: inbox, ReceiptHandle: receipt }));
    const identity = identityOf(envelope.nodeId);
    const base = {
      v: MESSAGE_VERSION,
      nodeId: envelope.nodeId,
      identity,
      runId: request.runId,
      batch: request.batch,
      // Echoed as agents do: ingest finds the node's partition and tally by it.
      ...(request.group !== undefined ? { group: request.group } : {}),
    } as const;
    const ackAt = Date.now();
    times.firstAckAt ??= ackAt;
    times.lastAckAt = Math.max(times.lastAckAt ?? 0, ackAt);
    await reply({ ...base, type: 'ack', sentAt: ackAt });
    if (request.action !== 'exec' && request.action !== 'ping') return;
    const now = Date.now();
    const stdout = `${identity}\n`;
    await reply({
      ...base,
      type: 'result',
      sentAt: now,
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: { text: stdout, bytes: stdout.length, truncated: false },
      stderr: { text: '', bytes: 0, truncated: false },
      startedAt: now,
      endedAt: now + 1,
    } as Reply);
    times.answered += 1;
  };
}
