/**
 * `npm run bench`: end-to-end latency of `drover run` on the embedded stack. Starts the stack in
 * this process and a demo fleet of N agents, then starts runs one after another across the whole
 * fleet and reports percentiles of the end-to-end time and of each phase, read from the
 * timestamps the control plane stores. Definitions of the phases: bench/README.md.
 */
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, createSfnClient } from '#shared/aws.ts';
import { newRunId } from '#shared/ids.ts';
import { readLocalStackFile } from '#shared/local-stack-file.ts';
import { getRunMeta, queryRunNodes } from '#shared/run-reader.ts';
import { batchSk, type BatchItem, type RunMetaItem } from '#shared/runs-table.ts';
import { startLocalStack, PROJECT_ROOT, type LocalStack } from '#local/stack.ts';
import { startDemoFleet, type DemoFleet } from '#local/demo-fleet.ts';
import { buildRunRequest } from '../cli/run-request.ts';
import { watchRun } from '../cli/run-watcher.ts';
import type { StackConnection } from '../cli/stack.ts';

const HEARTBEAT_SEC = 30;
const JOIN_TIMEOUT_MS = 120_000;
/** How long the fleet is watched doing nothing, to tell the emulators' idle load from run costs. */
const IDLE_WINDOW_MS = 2_000;
/** Linux reports process CPU times in clock ticks of 1/100 s (USER_HZ) on every architecture. */
const TICKS_PER_SEC = 100;

interface BenchOptions {
  agents: number;
  runs: number;
  command: string;
  json: boolean;
  home?: string;
  watcher: 'thin' | 'cli';
  pollMs: number;
}

/** Consecutive slices of a run's life; they add up to its end-to-end time. */
const PHASES = ['start', 'plan', 'dispatch', 'acks', 'results', 'finish', 'observe'] as const;
type Phase = (typeof PHASES)[number];

interface RunSample {
  runId: string;
  endToEndMs: number;
  /** null when a timestamp is missing (e.g. a wait timed out instead of being released). */
  phases: Record<Phase, number | null>;
  ok: boolean;
  problem?: string;
}

/** The wait release times are written by the reply ledger but not (yet) declared in BatchItem. */
interface BatchTimes extends BatchItem {
  acksDoneAt?: number;
  resultsDoneAt?: number;
}

interface Bench {
  stack: LocalStack;
  fleet: DemoFleet;
  conn: StackConnection;
}

function wholeNumber(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

function parseOptions(argv: string[]): BenchOptions {
  const program = new Command('bench')
    .description('Measure end-to-end run latency on the embedded stack with a demo fleet.')
    .addOption(
      new Option('--agents <n>', 'demo agents in the fleet')
        .argParser(wholeNumber('--agents', 1, 2000))
        .default(100),
    )
    .addOption(
      new Option('--runs <n>', 'measured runs (after one warm-up run)')
        .argParser(wholeNumber('--runs', 1, 10_000))
        .default(20),
    )
    .addOption(
      new Option('--command <shell>', 'command every agent runs')
        .argParser((value: string) => {
          if (value.trim() === '') throw new InvalidArgumentError('--command must not be empty.');
          return value;
        })
        .default('true'),
    )
    .option('--json', 'print one JSON document on stdout (progress goes to stderr)', false)
    .option('--home <dir>', 'state directory to use and keep (default: a fresh temporary one, removed)')
    .addOption(
      new Option('--watcher <kind>', 'thin: DescribeExecution until done; cli: the drover run watcher')
        .choices(['thin', 'cli'])
        .default('thin'),
    )
    .addOption(
      new Option('--poll-ms <ms>', 'watcher poll interval')
        .argParser(wholeNumber('--poll-ms', 1, 1000))
        .default(25),
    );
  program.parse(argv);
  return program.opts<BenchOptions>();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForAgents(bench: Bench, count: number): Promise<void> {
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  let seen = 0;
  while (Date.now() < deadline) {
    const out = await bench.conn.db.send(
      new ScanCommand({ TableName: bench.conn.nodesTable, Select: 'COUNT' }),
    );
    seen = out.Count ?? 0;
    if (seen >= count) return;
    if (!isAlive(bench.fleet.pid)) break;
    await sleep(100);
  }
  throw new Error(
    `only ${seen} of ${count} agents joined (agent process ${isAlive(bench.fleet.pid) ? 'still running' : 'exited'}); see ${bench.stack.file.stateDir}/demo-agents.log`,
  );
}

/** Polls until the execution has ended and its meta item carries the summary (or never will). */
async function watchThin(
  conn: StackConnection,
  runId: string,
  executionArn: string,
  pollMs: number,
): Promise<{ meta: RunMetaItem | undefined; status: string; failure?: string }> {
  for (;;) {
    const execution = await conn.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') {
      const meta = await getRunMeta(conn.db, conn.runsTable, runId);
      const failure =
        execution.status === 'SUCCEEDED' ? undefined : `${execution.error ?? ''}: ${execution.cause ?? ''}`;
      return { meta, status: execution.status ?? 'UNKNOWN', failure };
    }
    await sleep(pollMs);
  }
}

async function watchCli(
  conn: StackConnection,
  runId: string,
  executionArn: string,
  pollMs: number,
): Promise<{ meta: RunMetaItem | undefined; status: string; failure?: string }> {
  for await (const event of watchRun(conn, runId, executionArn, pollMs)) {
    if (event.type !== 'done') continue;
    const { execution } = event;
    const failure =
      execution.status === 'SUCCEEDED' ? undefined : `${execution.error ?? ''}: ${execution.cause ?? ''}`;
    return { meta: event.meta, status: execution.status, failure };
  }
  throw new Error(`the watcher of run ${runId} stopped without reporting the end`);
}

const span = (from: number | undefined, to: number | undefined): number | null =>
  from === undefined || to === undefined ? null : to - from;

/** One run as `drover run` does it, timed from just before StartExecution until it is seen done. */
async function measureRun(bench: Bench, options: BenchOptions): Promise<RunSample> {
  const { conn } = bench;
  const runId = newRunId();
  const request = buildRunRequest(runId, options.command, {}, `drover-bench@${hostname()}`);
  const startedAt = Date.now();
  const { executionArn } = await conn.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: conn.runStateMachineArn,
      name: runId,
      input: JSON.stringify(request),
    }),
  );
  const watch = options.watcher === 'cli' ? watchCli : watchThin;
  const seen = await watch(conn, runId, executionArn!, options.pollMs);
  const seenAt = Date.now();

  // Checking the outcome is not part of the measured time.
  const batch = (
    await conn.db.send(
      new GetCommand({ TableName: conn.runsTable, Key: { runId, sk: batchSk(0) }, ConsistentRead: true }),
    )
  ).Item as BatchTimes | undefined;
  const meta = seen.meta;
  const phases: Record<Phase, number | null> = {
    start: span(startedAt, meta?.startedAt),
    plan: span(meta?.startedAt, meta?.plannedAt),
    dispatch: span(meta?.plannedAt, batch?.dispatchedAt),
    acks: span(batch?.dispatchedAt, batch?.acksDoneAt),
    results: span(batch?.acksDoneAt, batch?.resultsDoneAt),
    finish: span(batch?.resultsDoneAt, meta?.finishedAt),
    observe: span(meta?.finishedAt, seenAt),
  };
  const problem = await checkOutcome(bench, runId, meta, seen, options.agents);
  return { runId, endToEndMs: seenAt - startedAt, phases, ok: problem === undefined, problem };
}

/** Why the run is not a clean success on every agent, or undefined. */
async function checkOutcome(
  bench: Bench,
  runId: string,
  meta: RunMetaItem | undefined,
  seen: { status: string; failure?: string },
  agents: number,
): Promise<string | undefined> {
  if (seen.failure) return `execution ${seen.status} ${seen.failure}`;
  if (!meta?.summary) return 'the execution ended without a summary on the run record';
  const nodes = await queryRunNodes(bench.conn.db, bench.conn.runsTable, runId);
  const byStatus = new Map<string, number>();
  for (const node of nodes) byStatus.set(node.status, (byStatus.get(node.status) ?? 0) + 1);
  const succeeded = byStatus.get('succeeded') ?? 0;
  if (succeeded === agents && nodes.length === agents && meta.summary.succeeded === agents) return undefined;
  const counts = [...byStatus].map(([status, n]) => `${status} ${n}`).join(', ');
  return `${succeeded}/${agents} succeeded (${nodes.length} targeted: ${counts || 'none'})`;
}

interface Spread {
  p50: number;
  p95: number;
  max: number;
  count: number;
}

/** Nearest-rank percentiles; null when no run has the value. */
function spread(values: readonly (number | null)[]): Spread | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1]!, count: sorted.length };
}

function procStatusKb(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** User + system CPU seconds of another process, from /proc/<pid>/stat (fields 14 and 15). */
function procCpuSec(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SEC;
  } catch {
    return null;
  }
}

/** CPU use of both processes, in percent of one core, while no run is going on. */
async function measureIdle(fleetPid: number): Promise<{ stackPct: number; agentPct: number | null }> {
  const stackBefore = process.cpuUsage();
  const agentBefore = procCpuSec(fleetPid);
  await sleep(IDLE_WINDOW_MS);
  const stack = process.cpuUsage(stackBefore);
  const agentAfter = procCpuSec(fleetPid);
  const pct = (sec: number) => Math.round((sec * 100_000) / IDLE_WINDOW_MS);
  return {
    stackPct: pct((stack.user + stack.system) / 1e6),
    agentPct: agentBefore === null || agentAfter === null ? null : pct(agentAfter - agentBefore),
  };
}

function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

type Report = ReturnType<typeof buildReport>;

function buildReport(
  options: BenchOptions,
  joinMs: number,
  warmup: RunSample,
  samples: RunSample[],
  cpu: { stackSec: number; agentSec: number | null },
  idle: { stackPct: number; agentPct: number | null },
  fleetPid: number,
) {
  const mib = (kb: number | null) => (kb === null ? null : Math.round(kb / 1024));
  return {
    machine: machine(),
    config: {
      agents: options.agents,
      runs: options.runs,
      command: options.command,
      watcher: options.watcher,
      pollMs: options.pollMs,
    },
    joinMs,
    stats: {
      endToEnd: spread(samples.map((s) => s.endToEndMs)),
      ...Object.fromEntries(PHASES.map((phase) => [phase, spread(samples.map((s) => s.phases[phase]))])),
    } as Record<'endToEnd' | Phase, Spread | null>,
    resources: {
      stackIdleCpuPct: idle.stackPct,
      agentIdleCpuPct: idle.agentPct,
      stackCpuSec: cpu.stackSec,
      stackRssMiB: mib(procStatusKb('self', 'VmRSS')),
      stackPeakRssMiB: mib(procStatusKb('self', 'VmHWM')),
      agentCpuSec: cpu.agentSec,
      agentRssMiB: mib(procStatusKb(fleetPid, 'VmRSS')),
      agentPeakRssMiB: mib(procStatusKb(fleetPid, 'VmHWM')),
    },
    failed: samples.filter((s) => !s.ok).length + (warmup.ok ? 0 : 1),
    warmup,
    runs: samples,
  };
}

function formatReport(report: Report): string {
  const { machine: m, config: c, resources: r } = report;
  const cell = (v: number | null | undefined) =>
    (v === null || v === undefined ? '-' : String(v)).padStart(7);
  const rows = [
    ['end-to-end', report.stats.endToEnd] as const,
    ...PHASES.map((phase) => [`  ${phase}`, report.stats[phase]] as const),
  ];
  const perRun = (sec: number | null) => (sec === null ? '-' : `${Math.round((sec * 1000) / c.runs)} ms/run`);
  const lines = [
    `drover bench: ${c.agents} agents, ${c.runs} runs of \`${c.command}\` (${c.watcher} watcher, poll ${c.pollMs} ms)`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}`,
    `agents joined in ${(report.joinMs / 1000).toFixed(1)} s; warm-up run ${report.warmup.endToEndMs} ms${report.warmup.ok ? '' : ` FAILED: ${report.warmup.problem}`}`,
    '',
    `${'ms'.padEnd(12)}${'p50'.padStart(7)}${'p95'.padStart(7)}${'max'.padStart(7)}`,
    ...rows.map(([name, s]) => `${name.padEnd(12)}${cell(s?.p50)}${cell(s?.p95)}${cell(s?.max)}`),
    '',
    `stack process: CPU ${r.stackCpuSec.toFixed(2)} s (${perRun(r.stackCpuSec)}; idle ${r.stackIdleCpuPct}% of a core), RSS ${r.stackRssMiB} MiB (peak ${r.stackPeakRssMiB} MiB)`,
    `agent process: CPU ${r.agentCpuSec?.toFixed(2) ?? '-'} s (${perRun(r.agentCpuSec)}; idle ${r.agentIdleCpuPct ?? '-'}% of a core), RSS ${r.agentRssMiB} MiB (peak ${r.agentPeakRssMiB} MiB)`,
    `runs ok: ${c.runs - report.runs.filter((s) => !s.ok).length}/${c.runs}`,
    ...report.runs.filter((s) => !s.ok).map((s) => `  FAILED ${s.runId}: ${s.problem}`),
  ];
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const progress = (text: string) => process.stderr.write(text + '\n');
  const writeOut = process.stdout.write.bind(process.stdout);
  // With --json stdout carries the document only: anything else the stack prints goes to stderr.
  if (options.json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof writeOut;

  const home = options.home ? resolve(options.home) : mkdtempSync(join(tmpdir(), 'drover-bench-'));
  if (options.home) {
    let running: number | undefined;
    try {
      running = readLocalStackFile(home).pid;
    } catch {
      // No live stack there: the directory is free to use.
    }
    if (running !== undefined)
      throw new Error(`a local stack (pid ${running}) already uses ${home}: pick another --home or omit it`);
  }

  let stack: LocalStack | undefined;
  let fleet: DemoFleet | undefined;
  let conn: StackConnection | undefined;
  let stopping: Promise<void> | undefined;
  const teardown = () =>
    (stopping ??= (async () => {
      conn?.close();
      await fleet?.stop();
      await stack?.stop();
      if (!options.home) rmSync(home, { recursive: true, force: true });
    })());
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    progress(`\n${signal}: stopping the fleet and the stack…`);
    void teardown().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));

  try {
    progress(`starting the local stack in ${home}…`);
    stack = await startLocalStack({
      home,
      onError: (error) => progress(`local stack: ${error instanceof Error ? error.message : String(error)}`),
    });
    const { file } = stack;
    const clientOptions = { region: file.region, endpoints: file.endpoints, credentials: file.credentials };
    const db = createDynamoClient(clientOptions);
    const sfn = createSfnClient(clientOptions);
    conn = {
      stage: file.stage,
      runStateMachineArn: file.stateMachines.run!,
      runsTable: file.runsTable,
      nodesTable: file.nodesTable,
      db,
      sfn,
      close() {
        db.destroy();
        sfn.destroy();
      },
    };

    const joinStart = Date.now();
    fleet = startDemoFleet({ home, root: PROJECT_ROOT, count: options.agents, heartbeatSec: HEARTBEAT_SEC });
    const bench: Bench = { stack, fleet, conn };
    await waitForAgents(bench, options.agents);
    const joinMs = Date.now() - joinStart;
    progress(`${options.agents} agents joined in ${(joinMs / 1000).toFixed(1)} s (pid ${fleet.pid})`);

    const warmup = await measureRun(bench, options);
    progress(`warm-up: ${warmup.endToEndMs} ms${warmup.ok ? '' : ` FAILED: ${warmup.problem}`}`);
    const idle = await measureIdle(fleet.pid);

    const cpuBefore = process.cpuUsage();
    const agentCpuBefore = procCpuSec(fleet.pid);
    const samples: RunSample[] = [];
    for (let i = 1; i <= options.runs && !stopping; i++) {
      const sample = await measureRun(bench, options);
      samples.push(sample);
      progress(
        `run ${i}/${options.runs}: ${sample.endToEndMs} ms${sample.ok ? '' : ` FAILED: ${sample.problem}`}`,
      );
    }
    if (stopping) return;
    const cpu = process.cpuUsage(cpuBefore);
    const agentCpuAfter = procCpuSec(fleet.pid);
    const report = buildReport(
      options,
      joinMs,
      warmup,
      samples,
      {
        stackSec: (cpu.user + cpu.system) / 1e6,
        agentSec: agentCpuBefore === null || agentCpuAfter === null ? null : agentCpuAfter - agentCpuBefore,
      },
      idle,
      fleet.pid,
    );
    writeOut(options.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
    if (report.failed > 0) process.exitCode = 1;
  } finally {
    await teardown();
  }
}

try {
  await main();
} catch (error: unknown) {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
