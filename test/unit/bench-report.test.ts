/**
 * The bench's options, its pdsh floor and its report (no stack, no timing asserted): what is
 * parsed, what pdsh is asked to run, and how the comparison is worked out and printed.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommanderError } from 'commander';
import { benchCommand, type BenchOptions } from '../../bench/options.ts';
import { findOnPath, measurePdsh, pdshArgs, pdshCommandLine, ratio } from '../../bench/pdsh.ts';
import {
  buildReport,
  formatPdsh,
  formatReport,
  pdshComparison,
  spread,
  type Measured,
  type RunSample,
} from '../../bench/report.ts';

const parse = (...args: string[]): BenchOptions => {
  const program = benchCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  program.parse(['node', 'bench', ...args]);
  return program.opts<BenchOptions>();
};

describe('bench options', () => {
  it('defaults: 100 agents, 20 runs, 5 warm-up, 5 drover run processes, 5 pdsh runs', () => {
    expect(parse()).toMatchObject({
      agents: 100,
      runs: 20,
      warmup: 5,
      command: 'true',
      cliRuns: 5,
      pdshRuns: 5,
      heartbeat: 30,
      watcher: 'thin',
      pollMs: 25,
      json: false,
    });
  });

  it('beats as the demo fleet does by default (30 s), as deployed agents do with --heartbeat 300', () => {
    expect(parse('--heartbeat', '300').heartbeat).toBe(300);
    expect(() => parse('--heartbeat', '0')).toThrow('--heartbeat must be a whole number from 1 to 86400.');
  });

  it('takes --pdsh-runs 0 (no floor) and whole numbers up to 1000', () => {
    expect(parse('--pdsh-runs', '0').pdshRuns).toBe(0);
    expect(parse('--pdsh-runs', '1000', '--agents', '1000').pdshRuns).toBe(1000);
  });

  it.each([
    ['--pdsh-runs', '-1', '--pdsh-runs must be a whole number from 0 to 1000.'],
    ['--pdsh-runs', '2.5', '--pdsh-runs must be a whole number from 0 to 1000.'],
    ['--agents', '0', '--agents must be a whole number from 1 to 2000.'],
    ['--agents', '2001', '--agents must be a whole number from 1 to 2000.'],
    ['--command', '  ', '--command must not be empty.'],
  ])('refuses %s %j, naming the option and its range', (flag, value, message) => {
    let thrown: unknown;
    try {
      parse(flag, value);
    } catch (error: unknown) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CommanderError);
    expect((thrown as CommanderError).message).toContain(message);
  });

  it('--help teaches with examples', () => {
    let help = '';
    benchCommand()
      .exitOverride()
      .configureOutput({ writeOut: (text) => (help += text) })
      .outputHelp();
    expect(help).toContain('--pdsh-runs <n>');
    expect(help).toContain('Examples:');
    expect(help).toContain('npm run bench -- --agents 1000');
  });
});

describe('pdsh floor', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bench-pdsh-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A fake pdsh on a PATH of its own: records its arguments, exits with `code`. */
  const fakePdsh = (code: number) => {
    const path = join(dir, 'pdsh');
    writeFileSync(
      path,
      `#!/bin/sh\nprintf '%s\\n' "$@" >> ${join(dir, 'calls')}\necho 'pdsh@test: h2: bash exited with exit code 3' >&2\nexit ${code}\n`,
    );
    chmodSync(path, 0o755);
    return path;
  };

  it('asks pdsh for the exec module, 64 at a time, -S, the same host count and bash -c COMMAND', () => {
    expect(pdshArgs(100, 'true')).toEqual([
      '-R',
      'exec',
      '-f',
      '64',
      '-S',
      '-w',
      'h[1-100]',
      'bash',
      '-c',
      'true',
    ]);
    expect(pdshArgs(1, 'uname -r')).toContain('h1');
    expect(() => pdshArgs(0, 'true')).toThrow(RangeError);
  });

  it('prints the command line as one would type it', () => {
    const line = pdshCommandLine({
      path: '/usr/bin/pdsh',
      argv: pdshArgs(3, "echo 'a b'"),
      runsMs: [],
      failures: [],
    });
    expect(line).toBe(`pdsh -R exec -f 64 -S -w 'h[1-3]' bash -c 'echo '\\''a b'\\'''`);
  });

  it('finds only an executable file on PATH', () => {
    writeFileSync(join(dir, 'pdsh'), 'not executable');
    chmodSync(join(dir, 'pdsh'), 0o644);
    expect(findOnPath('pdsh', dir)).toBeUndefined();
    chmodSync(join(dir, 'pdsh'), 0o755);
    expect(findOnPath('pdsh', ['', join(dir, 'missing'), dir].join(delimiter))).toBe(join(dir, 'pdsh'));
  });

  it('is skipped, saying why, without pdsh on PATH or with --pdsh-runs 0', async () => {
    expect(await measurePdsh({ hosts: 10, command: 'true', runs: 3, pathEnv: dir })).toEqual({
      skipped: 'pdsh is not on PATH',
    });
    fakePdsh(0);
    expect(await measurePdsh({ hosts: 10, command: 'true', runs: 0, pathEnv: dir })).toEqual({
      skipped: '--pdsh-runs 0',
    });
  });

  it('runs pdsh once more than counted (the first warms up) with the arguments above', async () => {
    fakePdsh(0);
    const seen: string[] = [];
    const report = await measurePdsh({
      hosts: 7,
      command: 'true',
      runs: 2,
      pathEnv: dir,
      onRun: (i, outcome) => seen.push(`${i} ${outcome}`),
    });
    expect('runsMs' in report && report.runsMs).toHaveLength(2);
    expect('failures' in report && report.failures).toEqual([]);
    expect(seen.map((s) => s.split(' ')[0])).toEqual(['1', '2']);
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    expect(calls).toHaveLength(3 * 10);
    expect(calls.slice(0, 10)).toEqual(pdshArgs(7, 'true'));
  });

  it('reports a failing pdsh run with its exit code and first error line, not as a time', async () => {
    fakePdsh(3);
    const report = await measurePdsh({ hosts: 2, command: 'exit 3', runs: 1, pathEnv: dir });
    expect('runsMs' in report && report.runsMs).toEqual([]);
    expect('failures' in report && report.failures).toEqual([
      'exit 3: pdsh@test: h2: bash exited with exit code 3',
      'exit 3: pdsh@test: h2: bash exited with exit code 3',
    ]);
  });
});

describe('bench report', () => {
  const sample = (endToEndMs: number): RunSample => ({
    runId: `r${endToEndMs}`,
    endToEndMs,
    phases: { start: 1, plan: 2, dispatch: 3, acks: 4, results: 5, finish: 6, observe: 7 },
    hosts: { firstAck: null, lastAck: null, lastStart: 8, command: 9, resultLag: 10 },
    ok: true,
  });
  const cpu = { stack: 1, agent: 1, commands: 0.5, machineBusy: 3, steal: 0 };
  const measured = (pdsh: Measured['pdsh']): Measured => ({
    joinMs: 1000,
    warmup: [sample(900)],
    samples: [sample(500), sample(400), sample(600), sample(450)],
    cliSamples: [{ wholeProcessMs: 800, cpuMs: 330, ok: true }],
    idle: cpu,
    cpu,
    agentPids: [],
    launcherPids: [],
    speedCheck: { before: { forkMs: 130, jsMs: 120 }, after: { forkMs: 131, jsMs: 121 } },
    pdsh,
  });
  const options = benchCommand().exitOverride().parse(['node', 'bench', '--runs', '4']).opts<BenchOptions>();

  it('nearest-rank percentiles, nothing for no values', () => {
    expect(spread([500, 400, null, 600, 450])).toEqual({ p50: 450, p95: 600, max: 600 });
    expect(spread([null])).toBeNull();
  });

  it('divides drover p50 by pdsh p50, in process and whole process, one decimal', () => {
    expect(ratio(546, 260)).toBe(2.1);
    expect(ratio(null, 260)).toBeNull();
    expect(ratio(546, 0)).toBeNull();
    const pdsh = { path: '/usr/bin/pdsh', argv: pdshArgs(4, 'true'), runsMs: [210, 200, 190], failures: [] };
    const c = pdshComparison(pdsh, spread([450]), spread([800]));
    expect(c).toMatchObject({ stats: { p50: 200 }, ratio: 2.3, wholeProcessRatio: 4 });
  });

  it('carries pdsh and the ratios in the JSON document and the table', () => {
    const report = buildReport(
      options,
      measured({ path: '/usr/bin/pdsh', argv: pdshArgs(4, 'true'), runsMs: [200, 180, 220], failures: [] }),
    );
    expect(report.stats.endToEnd).toEqual({ p50: 450, p95: 600, max: 600 });
    expect(report.config.pdshRuns).toBe(5);
    expect(report.config.heartbeatSec).toBe(30);
    expect(report.pdsh).toMatchObject({ stats: { p50: 200 }, ratio: 2.3, wholeProcessRatio: 4 });
    const json = JSON.parse(JSON.stringify(report)) as { pdsh: { commandLine: string } };
    expect(json.pdsh.commandLine).toBe(`pdsh -R exec -f 64 -S -w 'h[1-4]' bash -c true`);
    const table = formatReport(report);
    expect(table).toContain('(thin watcher, poll 25 ms, heartbeat 30 s)');
    expect(table).toMatch(/^pdsh floor {2}\s+200\s+220\s+220$/m);
    expect(table).toContain('drover ÷ pdsh, p50: end-to-end 2.3×, whole process 4×');
    // The CLI process's own CPU beside its wall time: what a busy machine moves least.
    expect(report.stats.wholeProcessCpu).toEqual({ p50: 330, p95: 330, max: 330 });
    expect(table).toMatch(/^ {2}its CPU\s+330\s+330\s+330$/m);
  });

  it('says why there is no floor, and lists pdsh failures with the failed runs', () => {
    expect(formatPdsh({ skipped: 'pdsh is not on PATH' }, 100)).toEqual([
      'pdsh floor: skipped (pdsh is not on PATH)',
    ]);
    const report = buildReport(
      options,
      measured({ path: '/usr/bin/pdsh', argv: pdshArgs(4, 'false'), runsMs: [], failures: ['exit 1'] }),
    );
    expect(report.pdsh).toMatchObject({ ratio: null, wholeProcessRatio: null });
    const table = formatReport(report);
    expect(table).toContain('drover ÷ pdsh, p50: end-to-end -, whole process -');
    expect(table).toContain('  FAILED pdsh: exit 1');
  });
});
