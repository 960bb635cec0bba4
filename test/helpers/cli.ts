/**
 * The `drover` CLI as a child process for end-to-end tests of its commands: with extra
 * environment, standard input, in a shell pipeline, in a pseudo-terminal (util-linux `script`),
 * or left running to be interrupted. Every process started here is stopped by `stopCliProcesses`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { testEnv } from './env.ts';
import { ROOT, stopChildren } from './processes.ts';

const DROVER = join(ROOT, 'bin', 'drover.js');
const children = new Set<ChildProcess>();
/** Children started in their own process group (shells, `script`): stopped with the whole group. */
const groups = new WeakSet<ChildProcess>();

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to the environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Written to standard input, which is then closed. */
  input?: string;
  timeoutMs?: number;
}

/** The command line that runs drover with this home, for shell pipelines. */
export const droverCommandLine = (home: string): string =>
  `'${process.execPath}' '${DROVER}' --home '${home}'`;

function track(child: ChildProcess, group = false): void {
  children.add(child);
  if (group) groups.add(child);
  child.once('exit', () => children.delete(child));
}

function kill(child: ChildProcess): void {
  try {
    if (groups.has(child) && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // Already gone.
  }
}

function collect(child: ChildProcess, what: string, options: CliOptions): Promise<CliRun> {
  return new Promise((resolveRun, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const limit = options.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      kill(child);
      reject(new Error(`${what} did not finish in ${limit} ms\n${stdout}\n${stderr}`));
    }, limit);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Runs `drover --home HOME ARGS` to completion. */
export function droverCli(home: string, args: string[], options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [DROVER, '--home', home, ...args], { env: testEnv(options.env) });
  track(child);
  return collect(child, `drover ${args.join(' ')}`, options);
}

/** Runs a bash pipeline (with pipefail); `{drover}` in it is the drover command line. */
export function droverPipeline(home: string, pipeline: string, options: CliOptions = {}): Promise<CliRun> {
  const child = spawn(
    'bash',
    ['-o', 'pipefail', '-c', pipeline.replaceAll('{drover}', droverCommandLine(home))],
    {
      env: testEnv(options.env),
      detached: true,
    },
  );
  track(child, true);
  return collect(child, pipeline, options);
}

const shellQuote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * Runs drover in a pseudo-terminal (`script -q -e -c … /dev/null`): stdout and stderr are both
 * the terminal and arrive together, with CR LF line ends. `env` is applied as for droverCli.
 */
export function droverInTerminal(home: string, args: string[], options: CliOptions = {}): Promise<CliRun> {
  const command = [process.execPath, DROVER, '--home', home, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    env: testEnv({ COLUMNS: '120', LINES: '40', ...options.env }),
    detached: true,
  });
  track(child, true);
  return collect(child, `drover ${args.join(' ')} (in a terminal)`, options);
}

export interface RunningCli {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** Starts drover and returns at once, to interrupt it. */
export function startDroverCli(home: string, args: string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [DROVER, '--home', home, ...args], { env: testEnv(options.env) });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Stops every process this module started (SIGKILL, to the whole group for shells). */
export function stopCliProcesses(): Promise<void> {
  return stopChildren(children, kill);
}

/** `text` without ANSI escape sequences and carriage returns. */
export const plainText = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '').replace(/\r/g, '');
