/**
 * `npm run bench` end to end, small: it starts the stack and a demo fleet, measures runs, reports
 * every figure as JSON, tells a failed run apart, and leaves no process or stack file behind. No
 * assertion on the figures' values: speed is what the bench reports, not what tests decide.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { droverPipeline, stopCliProcesses } from '../helpers/cli.ts';
import { ROOT } from '../helpers/processes.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';
import { runHistoryEvents } from '#functions/run/history-budget.ts';
import type { SimulationReport } from '../../bench/simulate/figures.ts';
import { findOnPath } from '../../bench/pdsh.ts';

/** Whether this machine has pdsh (the bench then measures its floor, else says it skipped it). */
const HAS_PDSH = findOnPath('pdsh', process.env.PATH ?? '') !== undefined;

const home = tempDirPerTest('drover-bench-');
afterEach(stopCliProcesses);

const BENCH = join(ROOT, 'bin', 'bench.js');

/** Runs the bench with these arguments in its own process group; home is the test's directory. */
async function bench(args: string) {
  const run = await droverPipeline(
    home.path(),
    `'${process.execPath}' '${BENCH}' --home '${home.path()}' --json ${args}`,
    { timeoutMs: 120_000 },
  );
  return { ...run, report: JSON.parse(run.stdout) as BenchReport };
}

interface Spread {
  p50: number;
  p95: number;
  max: number;
}

interface BenchReport {
  config: { agents: number; runs: number; warmup: number; command: string };
  stats: Record<string, Spread | null>;
  hosts: Record<string, Spread | null>;
  resources: {
    stack: { cpuSec: number; rss: number };
    agents: { processes: number; launchers: number; cpuSec: number; commandsCpuSec: number };
  };
  failed: number;
  runs: { ok: boolean; endToEndMs: number; problem?: string }[];
  cliRuns: { ok: boolean; wholeProcessMs: number; cpuMs: number | null; problem?: string }[];
  pdsh:
    | { skipped: string }
    | {
        commandLine: string;
        runsMs: number[];
        failures: string[];
        stats: Spread | null;
        ratio: number | null;
        wholeProcessRatio: number | null;
      };
}

/** Processes whose command line mentions `text` (the test's home names everything the bench starts). */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('npm run bench', () => {
  it('measures runs across the fleet and reports every figure as one JSON document', async () => {
    const { code, stderr, report } = await bench('--agents 3 --runs 3 --warmup 1 --cli-runs 2 --pdsh-runs 2');

    expect(code, stderr).toBe(0);
    expect(report.config).toMatchObject({ agents: 3, runs: 3, warmup: 1, command: 'true' });
    expect(report.failed).toBe(0);
    expect(report.runs).toHaveLength(3);
    expect(report.runs.every((r) => r.ok && r.endToEndMs > 0)).toBe(true);
    // Beside the in-process figures, `drover run` as a whole process, CLI start-up included.
    expect(report.cliRuns).toHaveLength(2);
    expect(report.cliRuns.every((r) => r.ok && r.wholeProcessMs > 0)).toBe(true);
    // A drover process uses some CPU, and less than it had time for (Linux: /proc).
    expect(
      report.cliRuns.every((r) => r.cpuMs !== null && r.cpuMs > 0 && r.cpuMs <= 2 * r.wholeProcessMs),
    ).toBe(true);
    expect(stderr).toContain('drover run 2/2');
    for (const phase of [
      'endToEnd',
      'start',
      'plan',
      'dispatch',
      'acks',
      'finish',
      'observe',
      'wholeProcess',
    ]) {
      expect(report.stats[phase], phase).toMatchObject({
        p50: expect.any(Number),
        p95: expect.any(Number),
        max: expect.any(Number),
      });
    }
    expect(report.hosts.lastStart).toMatchObject({ p50: expect.any(Number) });
    expect(report.hosts.command).toMatchObject({ p50: expect.any(Number) });
    // Three agents are one agent process, whose commands run from one launcher.
    expect(report.resources.agents).toMatchObject({ processes: 1, launchers: 1 });
    expect(report.resources.stack.cpuSec).toBeGreaterThan(0);
    expect(stderr).toContain('run 3/3');
    // The floor, in the same invocation: pdsh over as many hosts, and drover's p50 against it.
    if (HAS_PDSH) {
      expect(report.pdsh).toMatchObject({
        commandLine: "pdsh -R exec -f 64 -S -w 'h[1-3]' bash -c true",
        failures: [],
        stats: { p50: expect.any(Number) },
        ratio: expect.any(Number),
        wholeProcessRatio: expect.any(Number),
      });
      expect('runsMs' in report.pdsh && report.pdsh.runsMs).toHaveLength(2);
      expect(stderr).toContain('pdsh 2/2');
    } else {
      expect(report.pdsh).toEqual({ skipped: 'pdsh is not on PATH' });
    }
    // Everything it started is stopped, and the stack file is gone.
    expect(existsSync(join(home.path(), 'local.json'))).toBe(false);
    expect(processesMentioning(home.path())).toEqual([]);
  });

  it('--simulate runs one run across a simulated fleet and reports every figure as JSON', async () => {
    const run = await droverPipeline(
      home.path(),
      `'${process.execPath}' '${BENCH}' --simulate 12 --latency-scale 0.1 --json --home '${home.path()}/sim'`,
      { timeoutMs: 120_000 },
    );
    const report = JSON.parse(run.stdout) as SimulationReport;

    expect(run.code, run.stderr).toBe(0);
    expect(report).toMatchObject({
      ok: true,
      hosts: 12,
      succeeded: 12,
      status: 'succeeded',
      latencyScale: 0.1,
    });
    for (const phase of ['plan', 'dispatch', 'firstAck', 'lastAck', 'results', 'finish', 'endToEnd']) {
      expect(report.phasesMs[phase as keyof SimulationReport['phasesMs']], phase).toEqual(expect.any(Number));
    }
    // Every host's request was received and deleted, and acknowledged and answered, over SQS.
    expect(report.sqs.byOperation.SendMessage!.calls).toBeGreaterThanOrEqual(12 * 3);
    expect(report.sqs.byOperation.DeleteMessage!.calls).toBeGreaterThanOrEqual(12);
    expect(report.dynamodb.byOperation.Scan!.calls).toBeGreaterThanOrEqual(4);
    expect(report.dynamodb.write).toBeGreaterThan(0);
    expect(report.factsKbAverage).toBeGreaterThanOrEqual(2);
    expect(report.factsKbAverage).toBeLessThanOrEqual(20);
    expect(report.plan).toMatchObject({ targets: 12, segments: 4, pagedPeakBytes: expect.any(Number) });
    // The history the local Step Functions recorded: one batch of one dispatch group, as Plan budgets.
    expect(report.stepFunctions.historyEvents).toBe(runHistoryEvents([1], false, 'succeeded'));
    expect(report.stepFunctions.mapIterations).toBe(1);
    expect(report.aws.endToEndMs).toBeGreaterThan(0);
    expect(report.costUsd).toBeGreaterThan(0);
    expect(processesMentioning(home.path())).toEqual([]);
  });

  it('--simulate refuses a host count it cannot simulate, saying what to give', async () => {
    const run = await droverPipeline(home.path(), `'${process.execPath}' '${BENCH}' --simulate lots`, {
      timeoutMs: 60_000,
    });

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--simulate 10000');
  });

  it('reports runs whose hosts did not all succeed as failed, and exits 1', async () => {
    const { code, report } = await bench(
      '--agents 2 --runs 2 --warmup 1 --cli-runs 1 --pdsh-runs 1 --command false',
    );

    expect(code).toBe(1);
    expect(report.failed).toBe(4); // the warm-up run and the drover run process too
    expect(report.cliRuns.map((r) => r.problem)).toEqual([
      expect.stringContaining('exit 2, 0 hosts succeeded'),
    ]);
    expect(report.runs.map((r) => r.problem)).toEqual([
      expect.stringContaining('0/2 succeeded'),
      expect.stringContaining('0/2 succeeded'),
    ]);
    // pdsh's runs of the failing command are failures too (pdsh -S exits with the command's code).
    if (HAS_PDSH) {
      expect(report.pdsh).toMatchObject({
        runsMs: [],
        failures: [expect.stringMatching(/^exit 1/), expect.stringMatching(/^exit 1/)],
      });
    }
    expect(processesMentioning(home.path())).toEqual([]);
  });
});
