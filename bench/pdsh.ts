/**
 * The floor the bench compares drover with: pdsh running the same command over the same number of
 * hosts, in the same invocation (so on the same machine, under the same load). `pdsh -R exec` runs
 * the command locally once per host name (no ssh): what is left is pdsh forking `bash -c COMMAND`
 * for every host, 64 at a time, and collecting their output, i.e. what any fan-out tool pays on
 * this machine before it talks to a single host.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Concurrent commands, as in issue 18's measurement (`pdsh -f 64`). */
export const PDSH_FANOUT = 64;

/** What the bench reports about pdsh: why it did not run, or its timed runs. */
export type PdshReport =
  | { skipped: string }
  | {
      path: string;
      argv: string[];
      /** Whole-process wall times of the runs that succeeded, in order. */
      runsMs: number[];
      /** One line per run that did not exit 0. */
      failures: string[];
    };

/** The first executable file called `name` in the directories of `pathEnv` (PATH), or undefined. */
export function findOnPath(name: string, pathEnv: string): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not there, or not executable: the next directory.
    }
  }
  return undefined;
}

/**
 * pdsh's arguments for `command` over `hosts` host names (h1 … hN): the exec module, the fan-out,
 * `-S` (exit with the largest exit code of the commands, so a failure is seen), and the command run
 * as drover's agents run it, `bash -c COMMAND`. pdsh replaces `%h` in it with the host name.
 */
export function pdshArgs(hosts: number, command: string, fanout = PDSH_FANOUT): string[] {
  if (!Number.isInteger(hosts) || hosts < 1)
    throw new RangeError(`hosts must be a whole number ≥ 1, not ${hosts}`);
  const hostList = hosts === 1 ? 'h1' : `h[1-${hosts}]`;
  return ['-R', 'exec', '-f', String(fanout), '-S', '-w', hostList, 'bash', '-c', command];
}

/** The pdsh command line as one would type it in a POSIX shell (single quotes where needed). */
export function pdshCommandLine(report: Extract<PdshReport, { argv: string[] }>): string {
  const word = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);
  return ['pdsh', ...report.argv].map(word).join(' ');
}

/** One pdsh process, timed from spawn to exit; rejects nothing: a failure is described instead. */
function runOnce(path: string, argv: string[]): Promise<{ ms: number } | { failure: string }> {
  const startedAt = performance.now();
  const child = spawn(path, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString();
  });
  return new Promise((resolveRun) => {
    child.once('error', (error) => resolveRun({ failure: `cannot start ${path}: ${error.message}` }));
    child.once('close', (code, signal) => {
      const ms = Math.round(performance.now() - startedAt);
      if (code === 0) return resolveRun({ ms });
      const firstLine = stderr.trim().split('\n')[0] ?? '';
      resolveRun({ failure: `exit ${code ?? signal}${firstLine ? `: ${firstLine}` : ''}` });
    });
  });
}

/**
 * Runs pdsh `runs` times (after one run not counted: the first pays for loading pdsh and bash
 * from disk) over `hosts` hosts, one after another. Skipped, with the reason, when `runs` is 0 or
 * pdsh is not on PATH.
 */
export async function measurePdsh(options: {
  hosts: number;
  command: string;
  runs: number;
  pathEnv?: string;
  onRun?: (index: number, outcome: string) => void;
}): Promise<PdshReport> {
  if (options.runs === 0) return { skipped: '--pdsh-runs 0' };
  const path = findOnPath('pdsh', options.pathEnv ?? process.env.PATH ?? '');
  if (path === undefined) return { skipped: 'pdsh is not on PATH' };
  const argv = pdshArgs(options.hosts, options.command);
  const runsMs: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i <= options.runs; i++) {
    const outcome = await runOnce(path, argv);
    if (i > 0 && 'ms' in outcome) runsMs.push(outcome.ms);
    if ('failure' in outcome) failures.push(outcome.failure);
    if (i > 0) options.onRun?.(i, 'ms' in outcome ? `${outcome.ms} ms` : `FAILED: ${outcome.failure}`);
  }
  return { path, argv, runsMs, failures };
}

/** How many times longer drover took than pdsh (p50 against p50), to one decimal; null without both. */
export function ratio(droverMs: number | null | undefined, pdshMs: number | null | undefined): number | null {
  if (droverMs === null || droverMs === undefined || !pdshMs) return null;
  return Math.round((droverMs / pdshMs) * 10) / 10;
}
