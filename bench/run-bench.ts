/**
 * `npm run bench`: end-to-end latency of `drover run` on the embedded stack. Starts the stack in
 * this process and a demo fleet of N agents, then starts runs one after another across the whole
 * fleet and reports percentiles of the end-to-end time and of each phase, read from the
 * timestamps the control plane stores, with the CPU and memory both processes used.
 * What each figure means: bench/README.md.
 */
import { tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoClient, createSfnClient } from '#shared/aws.ts';
import { assertNoLocalStack } from '#shared/local-stack-file.ts';
import { startLocalStack, PROJECT_ROOT, type LocalStack } from '#local/stack.ts';
import { childPids, startDemoFleet, type DemoFleet } from '#local/demo-fleet.ts';
import type { StackConnection } from '#cli/api.ts';
import { parseOptions, type BenchOptions } from './options.ts';
import { cpuSince, cpuSnapshot, speedCheck } from './machine.ts';
import { measurePdsh } from './pdsh.ts';
import { buildReport, formatReport, IDLE_WINDOW_MS, type Measured } from './report.ts';
import { measureCliRun, measureRun, sleep, type Bench } from './measure-run.ts';

const JOIN_TIMEOUT_MS = 120_000;

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

/** What to stop at the end, filled in as the bench starts each part. */
interface Started {
  stack?: LocalStack;
  fleet?: DemoFleet;
  conn?: StackConnection;
}

/**
 * Stops what was started and removes a temporary home, once, however often it is called. Every
 * step runs even if one before it failed: a stack left running or a home left behind would outlive
 * the bench.
 */
function teardownOnce(started: Started, home: string, options: BenchOptions): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  const steps: [string, () => unknown][] = [
    ['close the clients', () => started.conn?.close()],
    ['stop the demo fleet', () => started.fleet?.stop()],
    ['stop the local stack', () => started.stack?.stop()],
    ['remove the temporary home', () => !options.home && rmSync(home, { recursive: true, force: true })],
  ];
  return () =>
    (stopping ??= (async () => {
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (error: unknown) {
          progress(`bench: could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    })());
}

/** The stack, then the fleet, until every agent is in the nodes table. */
async function startBench(started: Started, home: string, options: BenchOptions) {
  progress(`starting the local stack in ${home}…`);
  const stack = (started.stack = await startLocalStack({
    home,
    onError: (error) => progress(`local stack: ${error instanceof Error ? error.message : String(error)}`),
  }));
  const conn = (started.conn = connect(stack));
  const joinStart = Date.now();
  const fleet = (started.fleet = startDemoFleet({
    home,
    root: PROJECT_ROOT,
    count: options.agents,
    heartbeatSec: options.heartbeat,
  }));
  const bench: Bench = { stack, fleet, conn };
  await waitForAgents(bench, options.agents);
  const joinMs = Date.now() - joinStart;
  progress(
    `${options.agents} agents joined in ${(joinMs / 1000).toFixed(1)} s (agent pids ${fleet.pids.join(', ')})`,
  );
  return { bench, joinMs };
}

/** `count` timed things one after another, each reported as it ends; cut short once `stopped()`. */
async function series<T extends { ok: boolean; problem?: string }>(
  label: string,
  count: number,
  stopped: () => boolean,
  measure: () => Promise<T>,
  ms: (sample: T) => number,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 1; i <= count && !stopped(); i++) {
    const sample = await measure();
    out.push(sample);
    progress(`${label} ${i}/${count}: ${ms(sample)} ms${sample.ok ? '' : ` FAILED: ${sample.problem}`}`);
  }
  return out;
}

/**
 * Warm-up runs, the idle window, the measured runs (with the CPU they cost), the `drover run`
 * processes and pdsh, in that order; undefined when stopped half way.
 */
async function measureAll(
  bench: Bench,
  home: string,
  options: BenchOptions,
  stopped: () => boolean,
): Promise<Omit<Measured, 'joinMs'> | undefined> {
  const run = () => measureRun(bench, options);
  const warmup = await series('warm-up', options.warmup, stopped, run, (s) => s.endToEndMs);
  const speedBefore = speedCheck();
  // The agent processes and the command launchers they started (no command runs between runs).
  const pids = [...bench.fleet.pids, ...bench.fleet.pids.flatMap(childPids)];
  const idleStart = cpuSnapshot(pids);
  await sleep(IDLE_WINDOW_MS);
  const idle = cpuSince(idleStart, cpuSnapshot(pids));
  const before = cpuSnapshot(pids);
  const samples = await series('run', options.runs, stopped, run, (s) => s.endToEndMs);
  if (stopped()) return undefined;
  const cpu = cpuSince(before, cpuSnapshot(pids));
  const speedAfter = speedCheck();
  const cliRun = () => measureCliRun(home, options);
  const cliSamples = await series('drover run', options.cliRuns, stopped, cliRun, (s) => s.wholeProcessMs);
  if (stopped()) return undefined;
  const pdsh = await measurePdsh({
    hosts: options.agents,
    command: options.command,
    runs: options.pdshRuns,
    onRun: (i, outcome) => progress(`pdsh ${i}/${options.pdshRuns}: ${outcome}`),
  });
  if ('skipped' in pdsh) progress(`pdsh floor skipped: ${pdsh.skipped}`);
  return {
    warmup,
    samples,
    cliSamples,
    idle,
    cpu,
    agentPids: bench.fleet.pids,
    launcherPids: pids.slice(bench.fleet.pids.length),
    speedCheck: { before: speedBefore, after: speedAfter },
    pdsh,
  };
}

const progress = (text: string) => process.stderr.write(text + '\n');

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const writeOut = process.stdout.write.bind(process.stdout);
  // With --json stdout carries the document only: anything the stack prints goes to stderr.
  if (options.json) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof writeOut;
  const home = benchHome(options);
  const started: Started = {};
  const teardown = teardownOnce(started, home, options);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    stopping = true;
    progress(`\n${signal}: stopping the fleet and the stack…`);
    void teardown().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));

  try {
    const { bench, joinMs } = await startBench(started, home, options);
    const measured = await measureAll(bench, home, options, () => stopping);
    if (!measured) return;
    const report = buildReport(options, { joinMs, ...measured });
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
