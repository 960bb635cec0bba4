/**
 * The fault suite's bench: the embedded stack in this process, real agent processes (each alone,
 * its SQS calls through a proxy that can misbehave, or a demo fleet), the real `drover` CLI as
 * child processes, and the ledger of what really ran: every command the suite sends appends
 * `<node> <run>` to one file when it starts, so executions are counted on the hosts' side.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { stringify } from 'yaml';
import { createDynamoClient } from '#shared/aws.ts';
import { RunReader } from '#shared/stores/runs-reads.ts';
import type { RunMetaItem } from '#shared/runs-table.ts';
import { startLocalStack, PROJECT_ROOT, type LocalStack } from '#local/stack.ts';
import { localAgentKey } from '#shared/local-principals.ts';
import { startSqsProxy, type SqsProxy } from './sqs-proxy.ts';
import { startDynamoProxy, type DynamoProxy } from './dynamo-proxy.ts';
import { documentProblem, summaryProblem } from './counts.ts';

const DROVER = join(PROJECT_ROOT, 'bin', 'drover.js');

/** One line of the table. */
export interface Row {
  scenario: string;
  runs: number;
  hosts: number;
  /** Hosts that started the command, each of which owes its run a result. */
  expected: number;
  recorded: number;
  lost: number;
  executions: number;
  doubleExecutions: number;
  /** Hosts reported `no_response` that ran the command anyway. */
  lateAfterNoResponse: number;
  /** Runs whose summary disagrees with the host statuses. */
  wrongCounts: number;
  notes: string[];
}

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What `drover run --json` prints, as far as the suite reads it. */
export interface RunDocument {
  runId: string;
  summary: Record<string, number> | null;
  hosts: { identity: string; status: string }[];
}

interface ChaosAgent {
  identity: string;
  args: string[];
  child: ChildProcess;
  exited: Promise<void>;
}

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  NO_COLOR: '1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: 'us-east-1',
});

export class ChaosStack {
  readonly agents = new Map<string, ChaosAgent>();
  readonly #children = new Set<ChildProcess>();
  readonly execLog: string;

  private constructor(
    readonly home: string,
    readonly stack: LocalStack,
    readonly db: ReturnType<typeof createDynamoClient>,
    readonly proxy: SqsProxy,
    readonly dynamoProxy: DynamoProxy,
  ) {
    this.execLog = join(home, 'executions.log');
  }

  static async start(): Promise<ChaosStack> {
    const home = mkdtempSync(join(tmpdir(), 'drover-chaos-'));
    const stack = await startLocalStack({ home, onError: () => undefined });
    const { file } = stack;
    const db = createDynamoClient({
      region: file.region,
      endpoints: file.endpoints,
      credentials: file.credentials,
    });
    const proxy = await startSqsProxy(file.endpoints.sqs);
    // The handlers build their clients on first use, from the environment, as in a Lambda: from
    // now on theirs go through the proxy (this process's own client goes straight to dynalite).
    const dynamoProxy = await startDynamoProxy(file.endpoints.dynamodb);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamoProxy.url;
    return new ChaosStack(home, stack, db, proxy, dynamoProxy);
  }

  /** The command every run of the suite sends: record the execution, then `then`. */
  command(then = 'true'): string {
    return `echo "$DROVER_NODE_ID $DROVER_RUN_ID" >> ${this.execLog}; ${then}`;
  }

  /** Starts `drover agent` for one host (its SQS calls through the proxy) and waits until it heartbeated. */
  async startAgent(identity: string, role: string): Promise<void> {
    const dir = join(this.home, 'agents', identity);
    mkdirSync(dir, { recursive: true });
    const facts = join(dir, 'facts.yaml');
    writeFileSync(facts, stringify({ role }));
    const { file } = this.stack;
    const config = join(dir, 'agent.yaml');
    writeFileSync(
      config,
      stringify({
        stage: file.stage,
        region: file.region,
        replies_queue_url: file.repliesQueueUrl,
        public_key: join(file.stateDir, 'signing-key.pub.pem'),
        endpoints: { sqs: this.proxy.url },
        ec2: 'never',
        identity,
        state_dir: join(dir, 'state'),
        heartbeat_sec: 60,
        poll_wait_sec: 1,
        facts: { files: [facts] },
      }),
    );
    const args = [DROVER, 'agent', '--config', config];
    await this.#spawnAgent(identity, args);
  }

  /** Starts the agent again with the same settings and state (after a kill or a stop). */
  async restartAgent(identity: string): Promise<void> {
    const agent = this.agents.get(identity);
    if (!agent) throw new Error(`no agent ${identity}`);
    await this.#spawnAgent(identity, agent.args);
  }

  signal(identity: string, signal: NodeJS.Signals): void {
    const pid = this.agents.get(identity)?.child.pid;
    if (pid !== undefined) process.kill(pid, signal);
  }

  async stopAgent(identity: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const agent = this.agents.get(identity);
    if (!agent || agent.child.exitCode !== null || agent.child.signalCode !== null) return;
    agent.child.kill(signal);
    await agent.exited;
  }

  async #spawnAgent(identity: string, args: string[]): Promise<void> {
    const since = Date.now();
    // The agent signs as its node's local session (shared/local-principals.ts), so its replies pass
    // ingest's sender check; with the stack's own key they would be refused as another's.
    const child = spawn(process.execPath, args, {
      env: { ...env(), AWS_ACCESS_KEY_ID: localAgentKey([identity]) },
      stdio: 'ignore',
    });
    this.#children.add(child);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    void exited.then(() => this.#children.delete(child));
    this.agents.set(identity, { identity, args, child, exited });
    await this.until(
      async () => {
        const out = await this.db.send(
          new GetCommand({ TableName: this.stack.file.nodesTable, Key: { nodeId: identity } }),
        );
        const startedAt = (out.Item as { startedAt?: number } | undefined)?.startedAt;
        return startedAt !== undefined && startedAt >= since - 1_000 ? true : undefined;
      },
      60_000,
      `${identity} to join`,
    );
  }

  /** Runs `drover ARGS` to completion. */
  drover(args: string[], timeoutMs = 180_000): Promise<CliOutcome> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [DROVER, '--home', this.home, ...args], { env: env() });
      this.#children.add(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`drover ${args.join(' ')} did not finish in ${timeoutMs} ms`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        this.#children.delete(child);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Starts a run without watching it; its id. */
  async startRun(args: string[]): Promise<string> {
    const out = await this.drover(['run', ...args, '--async', '--json']);
    if (out.code !== 0) throw new Error(`drover run ${args.join(' ')} failed: ${out.stderr}`);
    return (JSON.parse(out.stdout) as { runId: string }).runId;
  }

  async waitFinished(runId: string, timeoutMs = 180_000): Promise<RunMetaItem> {
    return this.until(
      async () => {
        const meta = await new RunReader(this.db, this.stack.file.runsTable).getMeta(runId);
        return meta && meta.status !== 'running' ? meta : undefined;
      },
      timeoutMs,
      `run ${runId} to finish`,
    );
  }

  /** `<node> <run>` lines of the commands that started, counted by run and node. */
  executions(): Map<string, Map<string, number>> {
    const byRun = new Map<string, Map<string, number>>();
    if (!existsSync(this.execLog)) return byRun;
    for (const line of readFileSync(this.execLog, 'utf8').split('\n').filter(Boolean)) {
      const [node, run] = line.split(' ');
      if (!node || !run) continue;
      const nodes = byRun.get(run) ?? new Map<string, number>();
      nodes.set(node, (nodes.get(node) ?? 0) + 1);
      byRun.set(run, nodes);
    }
    return byRun;
  }

  /**
   * Waits (up to `timeoutMs`) until every host that started a command of `runIds` has its result
   * recorded: results still on their way (a backlog, a spool) are not losses.
   */
  async settle(runIds: readonly string[], timeoutMs = 60_000): Promise<void> {
    await this.until(
      async () => {
        const executions = this.executions();
        for (const runId of runIds) {
          const ran = executions.get(runId) ?? new Map<string, number>();
          const nodes = await new RunReader(this.db, this.stack.file.runsTable).queryNodes(runId);
          if (nodes.some((n) => ran.has(n.nodeId) && n.resultAt === undefined)) return undefined;
        }
        return true;
      },
      timeoutMs,
      'every result to be recorded',
    ).catch(() => undefined);
  }

  /** The table line for `runIds`, read from the runs table and the executions file. */
  async measure(
    scenario: string,
    runIds: readonly string[],
    documents: readonly RunDocument[] = [],
  ): Promise<Row> {
    const row: Row = {
      scenario,
      runs: runIds.length,
      hosts: 0,
      expected: 0,
      recorded: 0,
      lost: 0,
      executions: 0,
      doubleExecutions: 0,
      lateAfterNoResponse: 0,
      wrongCounts: 0,
      notes: [],
    };
    await this.settle(runIds);
    const executions = this.executions();
    for (const runId of runIds) {
      const meta = await new RunReader(this.db, this.stack.file.runsTable).getMeta(runId);
      const nodes = await new RunReader(this.db, this.stack.file.runsTable).queryNodes(runId);
      const ran = executions.get(runId) ?? new Map<string, number>();
      row.hosts += nodes.length;
      for (const node of nodes) {
        const count = ran.get(node.nodeId) ?? 0;
        row.executions += count;
        row.doubleExecutions += Math.max(0, count - 1);
        if (count === 0) continue;
        row.expected++;
        if (node.resultAt !== undefined) row.recorded++;
        else row.notes.push(`${node.identity} ran ${runId} but no result is recorded (${node.status})`);
        if (node.status === 'no_response' || node.lateAs === 'no_response') row.lateAfterNoResponse++;
      }
      const problem = meta ? summaryProblem(meta, nodes) : 'no run record';
      if (problem) {
        row.wrongCounts++;
        row.notes.push(`${runId} (${meta?.status ?? 'no record'}): ${problem}`);
      }
    }
    for (const doc of documents) {
      const problem = documentProblem(doc);
      if (problem) {
        row.wrongCounts++;
        row.notes.push(`${doc.runId} (--json): ${problem}`);
      }
    }
    row.lost = row.expected - row.recorded;
    return row;
  }

  async until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      [...this.#children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGCONT');
            child.kill('SIGKILL');
          }),
      ),
    );
    this.db.destroy();
    await this.proxy.close();
    await this.dynamoProxy.close();
    await this.stack.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
