/**
 * `npm run bench`: end-to-end latency of `drover run` on the embedded stack. Starts the stack in
 * this process and a demo fleet of N agents, then starts runs one after another across the whole
 * fleet and reports percentiles of the end-to-end time and of each phase, read from the
 * timestamps the control plane stores, with the CPU and memory both processes used.
 * What each figure means: bench/README.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, createSfnClient } from '#shared/aws.ts';
import { newRunId } from '#shared/ids.ts';
import { assertNoLocalStack } from '#shared/local-stack-file.ts';
import { isCompletedRun } from '#shared/run-errors.ts';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { batchSk, type BatchItem, type NodeRunItem, type RunMetaItem } from '#shared/runs-table.ts';
import { startLocalStack, PROJECT_ROOT, type LocalStack } from '#local/stack.ts';
import { childPids, startDemoFleet, type DemoFleet } from '#local/demo-fleet.ts';
import { buildRunRequest, watchRun, type StackConnection } from '#cli/api.ts';

const HEARTBEAT_SEC = 30;
const JOIN_TIMEOUT_MS = 120_000;
/** How long the fleet is watched doing nothing, to tell the emulators' idle load from run costs. */
const IDLE_WINDOW_MS = 2_000;
/** Linux reports CPU times in /proc in clock ticks of 1/100 s (USER_HZ) on every architecture. */
const TICKS_PER_SEC = 100;

interface BenchOptions {
  agents: number;
  runs: number;
  warmup: number;
  command: string;
  json: boolean;
  home?: string;
  watcher: 'thin' | 'cli';
  pollMs: number;
  cliRuns: number;
}

/** Consecutive slices of a run's life; they add up to its end-to-end time. */
const PHASES = ['start', 'plan', 'dispatch', 'acks', 'results', 'finish', 'observe'] as const;
type Phase = (typeof PHASES)[number];

/** What the hosts' own timestamps say happened inside the two waits. */
const HOST_FIGURES = ['firstAck', 'lastAck', 'lastStart', 'command', 'resultLag'] as const;
type HostFigure = (typeof HOST_FIGURES)[number];

interface RunSample {
  runId: string;
  endToEndMs: number;
  /** null when a timestamp is missing (e.g. a wait timed out instead of being released). */
  phases: Record<Phase, number | null>;
  hosts: Record<HostFigure, number | null>;
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

// ---- options ----

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
      new Option('--runs <n>', 'measured runs (after the warm-up runs)')
        .argParser(wholeNumber('--runs', 1, 10_000))
        .default(20),
    )
    .addOption(
      new Option(
        '--warmup <n>',
        'runs first, reported apart: the three fresh processes compile their hot paths',
      )
        .argParser(wholeNumber('--warmup', 1, 100))
        .default(5),
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
    )
    .addOption(
      new Option(
        '--cli-runs <n>',
        'then this many `drover run` processes, timed whole (CLI start-up included)',
      )
        .argParser(wholeNumber('--cli-runs', 0, 1000))
        .default(5),
    );
  program.parse(argv);
  return program.opts<BenchOptions>();
}

// ---- one run ----

interface CliSample {
  /** From spawning `node bin/drover.js … run` to its exit: start-up, the run, printing, exit. */
  wholeProcessMs: number;
  ok: boolean;
  problem?: string;
}

/** `drover run --json COMMAND` as an operator types it: a new process, timed from spawn to exit. */
function measureCliRun(home: string, options: BenchOptions): Promise<CliSample> {
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'bin', 'drover.js'), '--home', home, 'run', options.command, '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolveRun) => {
    child.once('close', (code) => {
      const wholeProcessMs = Math.round(performance.now() - startedAt);
      let succeeded: number | undefined;
      try {
        succeeded = (JSON.parse(stdout) as { summary?: { succeeded?: number } }).summary?.succeeded;
      } catch {
        // Not JSON: the problem below says what came out.
      }
      const ok = code === 0 && succeeded === options.agents;
      resolveRun({
        wholeProcessMs,
        ok,
        ...(ok
          ? {}
          : {
              problem: `exit ${code}, ${succeeded ?? 'no'} hosts succeeded: ${stderr.trim().split('\n')[0] ?? ''}`,
            }),
      });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  meta: RunMetaItem | undefined;
  status: string;
  failure?: string;
}

/** A run that completed, even with failed hosts (`HostsFailed`), is no failure of the stack's. */
const failureOf = (e: { status?: string; error?: string; cause?: string }): string | undefined =>
  isCompletedRun(e) ? undefined : `${e.error ?? ''}: ${e.cause ?? ''}`;

/** Polls DescribeExecution until the execution has ended, then reads the run record once. */
async function watchThin(conn: StackConnection, runId: string, arn: string, pollMs: number): Promise<Seen> {
  for (;;) {
    const execution = await conn.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (execution.status !== 'RUNNING') {
      const meta = await new RunReader(conn.db, conn.runsTable).getMeta(runId);
      return { meta, status: execution.status ?? 'UNKNOWN', failure: failureOf(execution) };
    }
    await sleep(pollMs);
  }
}

/** `drover run`'s own watcher: also reads every host's outcome as it lands. */
async function watchCli(conn: StackConnection, runId: string, arn: string, pollMs: number): Promise<Seen> {
  for await (const event of watchRun(conn, runId, arn, { pollMs })) {
    if (event.type === 'done') {
      return { meta: event.meta, status: event.execution.status, failure: failureOf(event.execution) };
    }
  }
  throw new Error(`the watcher of run ${runId} stopped without reporting the end`);
}

const span = (from: number | undefined, to: number | undefined): number | null =>
  from === undefined || to === undefined ? null : to - from;

function median(values: number[]): number | null {
  return values.length === 0 ? null : values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
}

function hostFigures(nodes: readonly NodeRunItem[], dispatchedAt: number | undefined) {
  const each = (f: (n: NodeRunItem) => number | null) => nodes.map(f).filter((v): v is number => v !== null);
  const acks = each((n) => n.ackedAt ?? null);
  const starts = each((n) => n.startedAt ?? null);
  return {
    firstAck: acks.length ? span(dispatchedAt, Math.min(...acks)) : null,
    lastAck: acks.length ? span(dispatchedAt, Math.max(...acks)) : null,
    lastStart: starts.length ? span(dispatchedAt, Math.max(...starts)) : null,
    command: median(each((n) => span(n.startedAt, n.endedAt))),
    resultLag: median(each((n) => span(n.endedAt, n.resultAt))),
  };
}

/** Why the run is not a clean success on every agent, or undefined. */
function problemOf(seen: Seen, nodes: readonly NodeRunItem[], agents: number): string | undefined {
  if (seen.failure) return `execution ${seen.status} ${seen.failure}`;
  if (!seen.meta?.summary) return 'the execution ended without a summary on the run record';
  const byStatus = new Map<string, number>();
  for (const node of nodes) byStatus.set(node.status, (byStatus.get(node.status) ?? 0) + 1);
  const succeeded = byStatus.get('succeeded') ?? 0;
  if (succeeded === agents && nodes.length === agents && seen.meta.summary.succeeded === agents) {
    return undefined;
  }
  const counts = [...byStatus].map(([status, n]) => `${status} ${n}`).join(', ');
  return `${succeeded}/${agents} succeeded (${nodes.length} targeted: ${counts || 'none'})`;
}

/** One run as `drover run` does it, timed from just before StartExecution until it is seen done. */
async function measureRun({ conn }: Bench, options: BenchOptions): Promise<RunSample> {
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

  // Reading the details and checking the outcome is not part of the measured time.
  const batch = (
    await conn.db.send(
      new GetCommand({ TableName: conn.runsTable, Key: { runId, sk: batchSk(0) }, ConsistentRead: true }),
    )
  ).Item as BatchTimes | undefined;
  const nodes = await new RunReader(conn.db, conn.runsTable).queryNodes(runId);
  const { meta } = seen;
  const problem = problemOf(seen, nodes, options.agents);
  return {
    runId,
    endToEndMs: seenAt - startedAt,
    phases: {
      start: span(startedAt, meta?.startedAt),
      plan: span(meta?.startedAt, meta?.plannedAt),
      dispatch: span(meta?.plannedAt, batch?.dispatchedAt),
      acks: span(batch?.dispatchedAt, batch?.acksDoneAt),
      results: span(batch?.acksDoneAt, batch?.resultsDoneAt),
      finish: span(batch?.resultsDoneAt, meta?.finishedAt),
      observe: span(meta?.finishedAt, seenAt),
    },
    hosts: hostFigures(nodes, batch?.dispatchedAt),
    ok: problem === undefined,
    ...(problem ? { problem } : {}),
  };
}

// ---- CPU and memory ----

/** Cumulative CPU seconds: this process (the stack), the agent processes and their commands, the machine. */
interface CpuSnapshot {
  stack: number;
  agent: number | null;
  commands: number | null;
  machineBusy: number | null;
  steal: number | null;
}

function readTicks(path: string, pick: (fields: number[]) => number[]): number[] | null {
  try {
    const text = readFileSync(path, 'utf8');
    // /proc/<pid>/stat: fields after the parenthesised name; /proc/stat: the first ("cpu") line.
    const rest =
      path === '/proc/stat' ? text.split('\n')[0]!.slice(4) : text.slice(text.lastIndexOf(')') + 2);
    return pick(rest.trim().split(/\s+/).map(Number)).map((t) => t / TICKS_PER_SEC);
  } catch {
    return null;
  }
}

function cpuSnapshot(agentPids: readonly number[]): CpuSnapshot {
  const own = process.cpuUsage();
  // utime, stime, cutime, cstime are fields 14–17 of /proc/<pid>/stat (11–14 after the name).
  const perProcess = agentPids.map((pid) =>
    readTicks(`/proc/${pid}/stat`, (f) => [f[11]! + f[12]!, f[13]! + f[14]!]),
  );
  let agent: number[] | null = [0, 0];
  for (const ticks of perProcess)
    agent = agent && ticks ? [agent[0]! + ticks[0]!, agent[1]! + ticks[1]!] : null;
  // user nice system idle iowait irq softirq steal
  const machine = readTicks('/proc/stat', (f) => [f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, f[7]!]);
  return {
    stack: (own.user + own.system) / 1e6,
    agent: agent?.[0] ?? null,
    commands: agent?.[1] ?? null,
    machineBusy: machine?.[0] ?? null,
    steal: machine?.[1] ?? null,
  };
}

function cpuSince(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  const diff = (a: number | null, b: number | null) =>
    a === null || b === null ? null : Math.round((b - a) * 100) / 100;
  return {
    stack: diff(before.stack, after.stack)!,
    agent: diff(before.agent, after.agent),
    commands: diff(before.commands, after.commands),
    machineBusy: diff(before.machineBusy, after.machineBusy),
    steal: diff(before.steal, after.steal),
  };
}

/** Summed over the agent processes (and their command launchers). */
function agentsMemoryMiB(pids: readonly number[]) {
  const each = pids.map(memoryMiB);
  const sum = (key: 'rss' | 'peakRss') =>
    each.some((m) => m[key] === null) ? null : each.reduce((total, m) => total + m[key]!, 0);
  return { rss: sum('rss'), peakRss: sum('peakRss') };
}

function memoryMiB(pid: number | 'self') {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // The process is gone: no figures.
  }
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : null;
  };
  return { rss: field('VmRSS'), peakRss: field('VmHWM') };
}

// ---- report ----

interface Spread {
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentiles; null when no run has the value. */
function spread(values: readonly (number | null)[]): Spread | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1]! };
}

interface SpeedCheck {
  forkMs: number;
  jsMs: number;
}

interface Measured {
  joinMs: number;
  warmup: RunSample[];
  samples: RunSample[];
  cliSamples: CliSample[];
  idle: CpuSnapshot;
  cpu: CpuSnapshot;
  agentPids: number[];
  launcherPids: number[];
  speedCheck: { before: SpeedCheck; after: SpeedCheck };
}

/**
 * How fast the machine is right now, two ways, each the quickest of three: 100 `bash -c true`
 * forked by one bash (fork and exec), and 20,000 JSON round trips and SHA-256 digests of a small
 * request in this process (the kind of work the SDK and emulators do). The VM shares its host: the
 * same code has cost 25–60 % more CPU per run from one invocation to the next, and these figures
 * say in which conditions a result was taken. They do not always move together.
 */
function speedCheck(): SpeedCheck {
  const quickest = (work: () => void) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      work();
      best = Math.min(best, performance.now() - start);
    }
    return Math.round(best);
  };
  const request = {
    runId: newRunId(),
    targets: Array.from({ length: 40 }, (_, i) => `web-${i}`),
    command: 'true',
  };
  const jsMs = quickest(() => {
    for (let i = 0; i < 20_000; i++) {
      const text = JSON.stringify({ ...request, i });
      JSON.parse(text);
      createHash('sha256').update(text).digest();
    }
  });
  const forkMs = quickest(() =>
    spawnSync('bash', ['-c', 'for i in {1..100}; do bash -c true; done'], { stdio: 'ignore' }),
  );
  return { forkMs, jsMs };
}

function buildReport(options: BenchOptions, m: Measured) {
  const pctOfCore = (sec: number | null) =>
    sec === null ? null : Math.round((sec * 100_000) / IDLE_WINDOW_MS);
  const { cpu } = m;
  const ours = cpu.stack + (cpu.agent ?? 0) + (cpu.commands ?? 0);
  return {
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      node: process.version,
      speedCheck: m.speedCheck,
    },
    config: {
      agents: options.agents,
      runs: options.runs,
      warmup: options.warmup,
      command: options.command,
      watcher: options.watcher,
      pollMs: options.pollMs,
      cliRuns: options.cliRuns,
    },
    joinMs: m.joinMs,
    stats: {
      endToEnd: spread(m.samples.map((s) => s.endToEndMs)),
      ...Object.fromEntries(PHASES.map((p) => [p, spread(m.samples.map((s) => s.phases[p]))])),
      wholeProcess: spread(m.cliSamples.map((s) => s.wholeProcessMs)),
    } as Record<'endToEnd' | Phase | 'wholeProcess', Spread | null>,
    hosts: Object.fromEntries(
      HOST_FIGURES.map((f) => [f, spread(m.samples.map((s) => s.hosts[f]))]),
    ) as Record<HostFigure, Spread | null>,
    /** CPU seconds over all measured runs; idle figures in percent of one core. */
    resources: {
      stack: { cpuSec: cpu.stack, idleCpuPct: pctOfCore(m.idle.stack), ...memoryMiB('self') },
      agents: {
        cpuSec: cpu.agent,
        commandsCpuSec: cpu.commands,
        idleCpuPct: pctOfCore(m.idle.agent),
        processes: m.agentPids.length,
        launchers: m.launcherPids.length,
        ...agentsMemoryMiB([...m.agentPids, ...m.launcherPids]),
      },
      machine: {
        busyCpuSec: cpu.machineBusy,
        otherCpuSec: cpu.machineBusy === null ? null : Math.round((cpu.machineBusy - ours) * 100) / 100,
        stealSec: cpu.steal,
      },
    },
    failed: [...m.samples, ...m.warmup, ...m.cliSamples].filter((s) => !s.ok).length,
    warmup: m.warmup,
    runs: m.samples,
    cliRuns: m.cliSamples,
  };
}

type Report = ReturnType<typeof buildReport>;

function formatReport(report: Report): string {
  const { machine: m, config: c, resources: r } = report;
  const cell = (v: number | null | undefined) =>
    (v === null || v === undefined ? '-' : String(v)).padStart(7);
  const row = (name: string, s: Spread | null) =>
    `${name.padEnd(13)}${cell(s?.p50)}${cell(s?.p95)}${cell(s?.max)}`;
  const sec = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} s`);
  const perRun = (v: number | null) => (v === null ? '-' : `${Math.round((v * 1000) / c.runs)} ms/run`);
  const failures = report.runs.filter((s) => !s.ok);
  return [
    `drover bench: ${c.agents} agents, ${c.runs} runs of \`${c.command}\` after ${c.warmup} warm-up runs (${c.watcher} watcher, poll ${c.pollMs} ms)`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}`,
    `speed check (ms, before → after the runs): fork ${m.speedCheck.before.forkMs} → ${m.speedCheck.after.forkMs}, js ${m.speedCheck.before.jsMs} → ${m.speedCheck.after.jsMs}`,
    `agents joined in ${(report.joinMs / 1000).toFixed(1)} s; warm-up runs (not counted): ${report.warmup.map((w) => `${w.endToEndMs}${w.ok ? '' : ' FAILED'}`).join(', ')} ms`,
    '',
    `${'ms'.padEnd(13)}${'p50'.padStart(7)}${'p95'.padStart(7)}${'max'.padStart(7)}`,
    row('end-to-end', report.stats.endToEnd),
    ...PHASES.map((p) => row(`  ${p}`, report.stats[p])),
    row('whole process', report.stats.wholeProcess),
    `  (${c.cliRuns} \`drover run\` processes after the runs above, CLI start-up included)`,
    'inside the waits (host timestamps):',
    row('  first ack', report.hosts.firstAck),
    row('  last ack', report.hosts.lastAck),
    row('  last start', report.hosts.lastStart),
    row('  command', report.hosts.command),
    row('  result lag', report.hosts.resultLag),
    '',
    `stack process: CPU ${sec(r.stack.cpuSec)} (${perRun(r.stack.cpuSec)}; idle ${r.stack.idleCpuPct}% of a core), RSS ${r.stack.rss} MiB (peak ${r.stack.peakRss} MiB)`,
    `agent processes (${r.agents.processes}${r.agents.launchers ? ` + ${r.agents.launchers} command launcher${r.agents.launchers === 1 ? '' : 's'}` : ''}): CPU ${sec(r.agents.cpuSec)} (${perRun(r.agents.cpuSec)}; idle ${r.agents.idleCpuPct ?? '-'}% of a core), RSS ${r.agents.rss} MiB (peak ${r.agents.peakRss} MiB); commands ${sec(r.agents.commandsCpuSec)}`,
    `machine: ${sec(r.machine.busyCpuSec)} CPU busy during the runs, ${sec(r.machine.otherCpuSec)} of it by other processes; steal ${sec(r.machine.stealSec)}`,
    `runs ok: ${c.runs - failures.length}/${c.runs}`,
    ...failures.map((s) => `  FAILED ${s.runId}: ${s.problem}`),
    ...report.cliRuns.filter((s) => !s.ok).map((s) => `  FAILED drover run: ${s.problem}`),
    '',
  ].join('\n');
}

// ---- main ----

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForAgents({ conn, fleet, stack }: Bench, count: number): Promise<void> {
  const deadline = Date.now() + JOIN_TIMEOUT_MS;
  let seen = 0;
  while (Date.now() < deadline && fleet.pids.every(isAlive)) {
    const out = await conn.db.send(new ScanCommand({ TableName: conn.nodesTable, Select: 'COUNT' }));
    seen = out.Count ?? 0;
    if (seen >= count) return;
    await sleep(100);
  }
  throw new Error(
    `only ${seen} of ${count} agents joined (agent processes ${fleet.pids.every(isAlive) ? 'still running' : 'exited'}); see ${stack.file.stateDir}/demo-agents.log`,
  );
}

function connect(stack: LocalStack): StackConnection {
  const { file } = stack;
  const options = { region: file.region, endpoints: file.endpoints, credentials: file.credentials };
  const db = createDynamoClient(options);
  const sfn = createSfnClient(options);
  return {
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
}

/** A directory of our own: a fresh temporary one, or --home if no live stack uses it. */
function benchHome(options: BenchOptions): string {
  if (!options.home) return mkdtempSync(join(tmpdir(), 'drover-bench-'));
  const home = resolve(options.home);
  assertNoLocalStack(home);
  return home;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const progress = (text: string) => process.stderr.write(text + '\n');
  const writeOut = process.stdout.write.bind(process.stdout);
  // With --json stdout carries the document only: anything the stack prints goes to stderr.
  if (options.json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof writeOut;
  const home = benchHome(options);

  let stack: LocalStack | undefined;
  let fleet: DemoFleet | undefined;
  let conn: StackConnection | undefined;
  let stopping: Promise<void> | undefined;
  // Every step runs even if one before it failed: a stack left running or a home left behind
  // would outlive the bench.
  const teardown = () =>
    (stopping ??= (async () => {
      const steps: [string, () => unknown][] = [
        ['close the clients', () => conn?.close()],
        ['stop the demo fleet', () => fleet?.stop()],
        ['stop the local stack', () => stack?.stop()],
        [
          'remove the temporary home',
          () => {
            if (!options.home) rmSync(home, { recursive: true, force: true });
          },
        ],
      ];
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (error: unknown) {
          progress(`bench: could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
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
    conn = connect(stack);
    const joinStart = Date.now();
    fleet = startDemoFleet({ home, root: PROJECT_ROOT, count: options.agents, heartbeatSec: HEARTBEAT_SEC });
    const bench: Bench = { stack, fleet, conn };
    await waitForAgents(bench, options.agents);
    const joinMs = Date.now() - joinStart;
    progress(
      `${options.agents} agents joined in ${(joinMs / 1000).toFixed(1)} s (agent pids ${fleet.pids.join(', ')})`,
    );

    // One series of runs one after another, each reported as it ends; cut short by Ctrl-C.
    const series = async (label: string, count: number): Promise<RunSample[]> => {
      const out: RunSample[] = [];
      for (let i = 1; i <= count && !stopping; i++) {
        const sample = await measureRun(bench, options);
        out.push(sample);
        progress(
          `${label} ${i}/${count}: ${sample.endToEndMs} ms${sample.ok ? '' : ` FAILED: ${sample.problem}`}`,
        );
      }
      return out;
    };
    const warmup = await series('warm-up', options.warmup);
    const speedBefore = speedCheck();
    // The agent processes and the command launchers they started (no command runs between runs).
    const pids = [...fleet.pids, ...fleet.pids.flatMap(childPids)];
    const idleStart = cpuSnapshot(pids);
    await sleep(IDLE_WINDOW_MS);
    const idle = cpuSince(idleStart, cpuSnapshot(pids));

    const before = cpuSnapshot(pids);
    const samples = await series('run', options.runs);
    if (stopping) return;
    const cpu = cpuSince(before, cpuSnapshot(pids));
    const speedAfter = speedCheck();
    const cliSamples: CliSample[] = [];
    for (let i = 1; i <= options.cliRuns && !stopping; i++) {
      const sample = await measureCliRun(home, options);
      cliSamples.push(sample);
      progress(
        `drover run ${i}/${options.cliRuns}: ${sample.wholeProcessMs} ms${sample.ok ? '' : ` FAILED: ${sample.problem}`}`,
      );
    }
    if (stopping) return;
    const report = buildReport(options, {
      joinMs,
      warmup,
      samples,
      cliSamples,
      idle,
      cpu,
      agentPids: fleet.pids,
      launcherPids: pids.slice(fleet.pids.length),
      speedCheck: { before: speedBefore, after: speedAfter },
    });
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
