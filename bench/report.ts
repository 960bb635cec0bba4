/**
 * The bench's report: percentiles of every figure, the JSON document and the table printed
 * (bench/README.md says what each figure means).
 */
import { cpus, totalmem } from 'node:os';
import type { BenchOptions } from './options.ts';
import { memoryMiB, agentsMemoryMiB, type CpuSnapshot, type SpeedCheck } from './machine.ts';
import { pdshCommandLine, ratio, type PdshReport } from './pdsh.ts';

/** How long the fleet is watched doing nothing, to tell the emulators' idle load from run costs. */
export const IDLE_WINDOW_MS = 2_000;

/** Consecutive slices of a run's life; they add up to its end-to-end time. */
export const PHASES = ['start', 'plan', 'dispatch', 'acks', 'results', 'finish', 'observe'] as const;
export type Phase = (typeof PHASES)[number];

/** What the hosts' own timestamps say happened inside the two waits. */
export const HOST_FIGURES = ['firstAck', 'lastAck', 'lastStart', 'command', 'resultLag'] as const;
export type HostFigure = (typeof HOST_FIGURES)[number];

export interface RunSample {
  runId: string;
  endToEndMs: number;
  /** null when a timestamp is missing (e.g. a wait timed out instead of being released). */
  phases: Record<Phase, number | null>;
  hosts: Record<HostFigure, number | null>;
  ok: boolean;
  problem?: string;
}

export interface CliSample {
  /** From spawning `node bin/drover.js … run` to its exit: start-up, the run, printing, exit. */
  wholeProcessMs: number;
  /** That process's CPU (user + system; 10 ms ticks), the figure a busy machine moves least. */
  cpuMs: number | null;
  ok: boolean;
  problem?: string;
}

export interface Spread {
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentiles; null when no run has the value. */
export function spread(values: readonly (number | null)[]): Spread | null {
  const sorted = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: rank(50), p95: rank(95), max: sorted[sorted.length - 1]! };
}

export interface Measured {
  joinMs: number;
  warmup: RunSample[];
  samples: RunSample[];
  cliSamples: CliSample[];
  idle: CpuSnapshot;
  cpu: CpuSnapshot;
  agentPids: number[];
  launcherPids: number[];
  speedCheck: { before: SpeedCheck; after: SpeedCheck };
  pdsh: PdshReport;
}

/** pdsh's figures beside drover's: p50 against p50, in process and whole process. */
export function pdshComparison(pdsh: PdshReport, endToEnd: Spread | null, wholeProcess: Spread | null) {
  if ('skipped' in pdsh) return pdsh;
  const stats = spread(pdsh.runsMs);
  return {
    commandLine: pdshCommandLine(pdsh),
    ...pdsh,
    stats,
    /** drover's end-to-end p50 ÷ pdsh's p50 (null when either is missing). */
    ratio: ratio(endToEnd?.p50, stats?.p50),
    /** The same for the whole `drover run` process. */
    wholeProcessRatio: ratio(wholeProcess?.p50, stats?.p50),
  };
}

export function buildReport(options: BenchOptions, m: Measured) {
  const pctOfCore = (sec: number | null) =>
    sec === null ? null : Math.round((sec * 100_000) / IDLE_WINDOW_MS);
  const { cpu } = m;
  const ours = cpu.stack + (cpu.agent ?? 0) + (cpu.commands ?? 0);
  const endToEnd = spread(m.samples.map((s) => s.endToEndMs));
  const wholeProcess = spread(m.cliSamples.map((s) => s.wholeProcessMs));
  const wholeProcessCpu = spread(m.cliSamples.map((s) => s.cpuMs));
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
      pdshRuns: options.pdshRuns,
      heartbeatSec: options.heartbeat,
    },
    joinMs: m.joinMs,
    stats: {
      endToEnd,
      ...Object.fromEntries(PHASES.map((p) => [p, spread(m.samples.map((s) => s.phases[p]))])),
      wholeProcess,
      wholeProcessCpu,
    } as Record<'endToEnd' | Phase | 'wholeProcess' | 'wholeProcessCpu', Spread | null>,
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
    pdsh: pdshComparison(m.pdsh, endToEnd, wholeProcess),
  };
}

export type Report = ReturnType<typeof buildReport>;

export function formatReport(report: Report): string {
  const { machine: m, config: c, resources: r } = report;
  const cell = (v: number | null | undefined) =>
    (v === null || v === undefined ? '-' : String(v)).padStart(7);
  const row = (name: string, s: Spread | null) =>
    `${name.padEnd(13)}${cell(s?.p50)}${cell(s?.p95)}${cell(s?.max)}`;
  const sec = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)} s`);
  const perRun = (v: number | null) => (v === null ? '-' : `${Math.round((v * 1000) / c.runs)} ms/run`);
  const failures = report.runs.filter((s) => !s.ok);
  return [
    `drover bench: ${c.agents} agents, ${c.runs} runs of \`${c.command}\` after ${c.warmup} warm-up runs (${c.watcher} watcher, poll ${c.pollMs} ms, heartbeat ${c.heartbeatSec} s)`,
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}`,
    `speed check (ms, before → after the runs): fork ${m.speedCheck.before.forkMs} → ${m.speedCheck.after.forkMs}, js ${m.speedCheck.before.jsMs} → ${m.speedCheck.after.jsMs}`,
    `agents joined in ${(report.joinMs / 1000).toFixed(1)} s; warm-up runs (not counted): ${report.warmup.map((w) => `${w.endToEndMs}${w.ok ? '' : ' FAILED'}`).join(', ')} ms`,
    '',
    `${'ms'.padEnd(13)}${'p50'.padStart(7)}${'p95'.padStart(7)}${'max'.padStart(7)}`,
    row('end-to-end', report.stats.endToEnd),
    ...PHASES.map((p) => row(`  ${p}`, report.stats[p])),
    row('whole process', report.stats.wholeProcess),
    row('  its CPU', report.stats.wholeProcessCpu),
    `  (${c.cliRuns} \`drover run\` processes after the runs above, CLI start-up included)`,
    ...formatPdsh(report.pdsh, c.agents),
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
    ...('failures' in report.pdsh ? report.pdsh.failures.map((f) => `  FAILED pdsh: ${f}`) : []),
    '',
  ].join('\n');
}

/** The pdsh floor lines of the table: its p50 and the ratios, or why it did not run. */
export function formatPdsh(pdsh: ReturnType<typeof pdshComparison>, hosts: number): string[] {
  if ('skipped' in pdsh) return [`pdsh floor: skipped (${pdsh.skipped})`];
  const times = (r: number | null) => (r === null ? '-' : `${r}×`);
  const p = pdsh.stats;
  return [
    `pdsh floor  ${`${p?.p50 ?? '-'}`.padStart(7)}${`${p?.p95 ?? '-'}`.padStart(7)}${`${p?.max ?? '-'}`.padStart(7)}`,
    `  (${pdsh.runsMs.length} runs of \`${pdsh.commandLine}\` over ${hosts} hosts, after the \`drover run\` processes)`,
    `  drover ÷ pdsh, p50: end-to-end ${times(pdsh.ratio)}, whole process ${times(pdsh.wholeProcessRatio)}`,
  ];
}
