/**
 * Micro-benchmark of the local SQS emulator as the stack serves it (local/emulators.ts `startSqs`,
 * with the sender registry wrapped around it), measured by the CPU of the process serving it:
 *
 *   node --import tsx bench/sqs-emulator.ts [--queues 1000] [--rounds 5] [--prof DIR]
 *
 * The emulator runs in a child process; this process plays Dispatch and the agents with the real
 * SDK: it creates `--queues` inboxes (timing CreateQueue, which must stay linear in the number of
 * queues), keeps one long poll waiting on each (WaitTimeSeconds 20, up to 10 messages, as an
 * agent's), then per round sends one message to each inbox (32 at a time, as Dispatch), each
 * poller deletes what it got and polls again; the replies go back in SendMessageBatch calls of 10
 * to a replies queue that four pollers receive and DeleteMessageBatch, as ingest's event source.
 * Printed: the child's CPU per round and per host, with `uptime`'s load.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import pLimit from 'p-limit';

interface CpuAnswer {
  user: number;
  system: number;
}

async function serve(): Promise<void> {
  const { startSqs } = await import('#local/emulators.ts');
  const { SenderRegistry } = await import('#local/sqs-senders.ts');
  const emulator = await startSqs({ region: 'us-east-1', senders: new SenderRegistry() });
  process.on('message', (m: string) => {
    if (m === 'cpu') process.send!(process.cpuUsage());
    if (m === 'stop') void emulator.close().then(() => process.exit(0));
  });
  // The driving process gone (ended, or killed) ends this one too.
  process.on('disconnect', () => process.exit(0));
  process.send!({ port: emulator.port });
}

function ask(child: ChildProcess): Promise<CpuAnswer> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as CpuAnswer));
    child.send('cpu');
  });
}

const cpuMs = (a: CpuAnswer, b: CpuAnswer) => (b.user + b.system - a.user - a.system) / 1000;

function client(port: number, key: string): SQSClient {
  return new SQSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${port}`,
    credentials: { accessKeyId: key, secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 2048 }) }),
  });
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

/** The fleet's side: one long poll per inbox, replies batched by 10, four ingest pollers. */
class Fleet {
  readonly abort = new AbortController();
  readonly #pending: string[] = [];
  #received = 0;
  #onRound: (() => void) | undefined;

  constructor(
    private readonly stack: SQSClient,
    private readonly agents: SQSClient,
    private readonly replies: string,
    private readonly hosts: number,
  ) {
    // Every poll listens on the one signal: a thousand listeners are expected, not a leak.
    setMaxListeners(0, this.abort.signal);
  }

  start(urls: string[]): Promise<unknown> {
    return Promise.allSettled([
      ...urls.map((url) => this.#poll(url)),
      ...Array.from({ length: 4 }, () => this.#ingest()),
    ]);
  }

  /** Resolves once every host's reply of the round has been received. */
  round(): Promise<void> {
    this.#received = 0;
    return new Promise((resolve) => (this.#onRound = resolve));
  }

  async flush(): Promise<void> {
    const entries = this.#pending.splice(0, 10);
    if (entries.length === 0) return;
    await this.agents.send(
      new SendMessageBatchCommand({
        QueueUrl: this.replies,
        Entries: entries.map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
  }

  async #poll(url: string): Promise<void> {
    while (!this.abort.signal.aborted) {
      const out = await this.agents
        .send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 20,
            VisibilityTimeout: 30,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: this.abort.signal },
        )
        .catch(() => ({ Messages: [] }));
      for (const m of out.Messages ?? []) {
        await this.agents.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
        this.#pending.push(JSON.stringify({ v: 1, kind: 'result', body: m.Body!.slice(0, 200) }));
        if (this.#pending.length >= 10) await this.flush();
      }
    }
  }

  async #ingest(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const out = await this.stack
        .send(
          new ReceiveMessageCommand({
            QueueUrl: this.replies,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 20,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        )
        .catch(() => ({ Messages: [] }));
      const messages = out.Messages ?? [];
      if (messages.length === 0) continue;
      this.#received += messages.length;
      await this.stack.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.replies,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      if (this.#received >= this.hosts) this.#onRound?.();
    }
  }
}

async function createQueues(child: ChildProcess, stack: SQSClient, queues: number): Promise<string[]> {
  const before = await ask(child);
  const limit = pLimit(32);
  const urls = await Promise.all(
    Array.from({ length: queues }, (_, i) =>
      limit(async () => (await stack.send(new CreateQueueCommand({ QueueName: `inbox-${i}` }))).QueueUrl!),
    ),
  );
  console.log(`CreateQueue x${queues}: emulator CPU ${cpuMs(before, await ask(child)).toFixed(0)} ms`);
  return urls;
}

/** The emulator's CPU for each round (the first, warming up, not counted). */
async function measureRounds(
  child: ChildProcess,
  stack: SQSClient,
  fleet: Fleet,
  urls: string[],
  rounds: number,
) {
  const limit = pLimit(32);
  const body = JSON.stringify({ v: 1, nodeId: 'x', request: 'r'.repeat(700), signature: 's'.repeat(96) });
  const perRound: number[] = [];
  for (let round = 0; round < rounds + 1; round++) {
    const done = fleet.round();
    const before = await ask(child);
    await Promise.all(
      urls.map((url) =>
        limit(() => stack.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }))),
      ),
    );
    const tail = setInterval(() => void fleet.flush(), 50);
    await done;
    clearInterval(tail);
    const after = await ask(child);
    if (round > 0) perRound.push(cpuMs(before, after));
  }
  return perRound;
}

async function drive(): Promise<void> {
  const queues = option('--queues', 1000);
  const rounds = option('--rounds', 5);
  const profAt = process.argv.indexOf('--prof');
  const profDir = profAt === -1 ? undefined : process.argv[profAt + 1];
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    // --prof DIR: a CPU profile of the emulator's process, written to DIR when it stops.
    execArgv: ['--import', 'tsx', ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])],
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
  });
  const { port } = await new Promise<{ port: number }>((resolve) => child.once('message', resolve as never));
  const stack = client(port, 'local');
  const agents = client(port, 'LOCALFLEET');
  let fleet: Fleet | undefined;
  try {
    const urls = await createQueues(child, stack, queues);
    const replies = (await stack.send(new CreateQueueCommand({ QueueName: 'replies' }))).QueueUrl!;
    fleet = new Fleet(stack, agents, replies, queues);
    const loops = fleet.start(urls);
    const perRound = (await measureRounds(child, stack, fleet, urls, rounds)).sort((a, b) => a - b);
    const median = perRound[Math.floor(perRound.length / 2)]!;
    const load = loadavg().map((l) => l.toFixed(1));
    console.log(
      `round of ${queues} hosts: emulator CPU median ${median.toFixed(0)} ms (${((median / queues) * 1000).toFixed(0)} µs per host), ` +
        `min ${perRound[0]!.toFixed(0)}, rounds ${perRound.map((r) => r.toFixed(0)).join(' ')}; load ${load.join(' ')}`,
    );
    fleet.abort.abort();
    await loops;
  } finally {
    fleet?.abort.abort();
    stack.destroy();
    agents.destroy();
    await stopChild(child);
  }
}

/** Asks the emulator's process to stop and waits until it has; kills it if it takes over 5 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// As bin/bench.js: the SDK's notice about Node 20 is not this benchmark's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (process.argv.includes('--serve')) await serve();
else await drive();
