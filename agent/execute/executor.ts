/**
 * Runs one command on the host: in its own process group, with a timeout and cancellation that
 * reach every process the command started, and with stdout and stderr captured separately in
 * bounded memory (head and tail kept). Never rejects: every way a command can end is a result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
// Types only: the command launcher runs this module and should not load the schemas (zod).
import type { Command, CapturedStream } from '#shared/messages.ts';
import { fitStreams } from '#shared/output-fit.ts';
import { HeadTailBuffer } from './head-tail-buffer.ts';

/** Largest stdout or stderr kept per stream, by default (head and tail). */
export const DEFAULT_OUTPUT_CAP_BYTES = 64 * 1024;

/** How long to wait after a TERM before the process group gets a KILL, by default. */
export const DEFAULT_KILL_GRACE_MS = 2_000;

/** How long to wait for stdout/stderr to close once the command itself has exited, by default. */
export const DEFAULT_STREAM_GRACE_MS = 500;

export interface ExecuteOptions {
  /** Seconds the command may run (fractions allowed) before its process group is terminated. */
  timeoutSec: number;
  /**
   * The complete environment of the command: nothing of the agent's own environment is inherited.
   * Callers should pass a minimal one: `PATH`, `HOME`, `LANG`, plus the `DROVER_*` variables
   * (`DROVER_RUN_ID`, ...), so commands behave the same on every host and no agent secret leaks.
   */
  env: Readonly<Record<string, string>>;
  /** Working directory; `/` by default. */
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Bytes kept per stream (first half and last half); 64 KiB by default. */
  outputCapBytes?: number;
  /**
   * The most stdout and stderr may take together as JSON strings (what a result reply carries):
   * beyond it they are cut further, head and tail kept (see shared/output-fit.ts). No limit by
   * default.
   */
  outputBudgetBytes?: number;
  /** Milliseconds between SIGTERM and SIGKILL of the process group; 2000 by default. */
  killGraceMs?: number;
  /** Milliseconds to wait for the output pipes after the command exited; 500 by default. */
  streamGraceMs?: number;
  /** Aborting terminates the command like a timeout does, and flags the result `cancelled`. */
  signal?: AbortSignal;
  /** Called once the process has started, with its pid, which is also its process group id. */
  onStart?: (pid: number) => void;
  now?: () => number;
}

export interface ExecutionResult {
  /** Exit code; null when the process ended by a signal. 127/126 when it could not start. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  cancelled: boolean;
  stdout: CapturedStream;
  stderr: CapturedStream;
  startedAt: number;
  endedAt: number;
  pid?: number;
  /** Why the command could not start or finish normally, when it could not. */
  error?: string;
}

const EMPTY = { text: '', bytes: 0, truncated: false };

/** The result of a request that ran no command: a ping, or one that never started. */
export function notRunResult(
  now: number,
  outcome: { exitCode: number | null; cancelled?: boolean; error?: string },
): ExecutionResult {
  return {
    exitCode: outcome.exitCode,
    signal: null,
    timedOut: false,
    cancelled: outcome.cancelled ?? false,
    stdout: EMPTY,
    stderr: EMPTY,
    startedAt: now,
    endedAt: now,
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
  };
}

/**
 * Runs `command` and resolves once it has ended and its output is collected.
 *
 * `{shell}` runs as `bash -c <shell>` (so `set -o pipefail` and `PIPESTATUS` work); `{argv}` runs
 * `argv[0]` with the rest as arguments, without a shell. The child leads its own process group and
 * has no stdin. On timeout or abort the whole group gets SIGTERM, then SIGKILL after `killGraceMs`.
 * Processes left running in the background after a normal exit are not killed, but their hold on
 * the output pipes is: the result comes at most `streamGraceMs` after the command exits.
 *
 * The promise never rejects; a command that cannot start resolves with exit code 127 (126 when not
 * executable) and `error` saying why.
 */
export function executeCommand(command: Command, options: ExecuteOptions): Promise<ExecutionResult> {
  const now = options.now ?? Date.now;
  const cwd = options.cwd ?? '/';
  const cap = options.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES;
  const [file, args] =
    'shell' in command ? ['bash', ['-c', command.shell]] : [command.argv[0] ?? '', command.argv.slice(1)];
  const startedAt = now();
  const stdout = new HeadTailBuffer(cap);
  const stderr = new HeadTailBuffer(cap);
  const captured = () => fitStreams(stdout.parts(), stderr.parts(), options.outputBudgetBytes ?? Infinity);

  const notRun = (exitCode: number | null, error: string, cancelled = false): ExecutionResult => ({
    exitCode,
    signal: null,
    timedOut: false,
    cancelled,
    ...captured(),
    startedAt,
    endedAt: now(),
    error,
  });

  if (options.signal?.aborted) return Promise.resolve(notRun(null, 'cancelled before it started', true));

  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...options.env },
      cwd,
      uid: options.uid,
      gid: options.gid,
    });
  } catch (e: unknown) {
    return Promise.resolve(notRun(127, describeSpawnError(e, file, cwd)));
  }
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  return new GroupWatch(child, { file, cwd, startedAt, now, captured, options }).result;
}

/** What a watch needs to know of the command it watches. */
interface Watched {
  file: string;
  cwd: string;
  startedAt: number;
  now: () => number;
  /** stdout and stderr as the result carries them. */
  captured: () => { stdout: CapturedStream; stderr: CapturedStream };
  options: ExecuteOptions;
}

/**
 * One started command until its result: the timeout and the abort that terminate its process
 * group (TERM, then KILL after the grace), its exit, the wait for its output pipes, and the one
 * result it resolves with, however many of those happen.
 */
class GroupWatch {
  readonly result: Promise<ExecutionResult>;
  #resolve!: (result: ExecutionResult) => void;
  readonly #pid: number | undefined;
  #exitCode: number | null = null;
  #exitSignal: string | null = null;
  #exited = false;
  #settled = false;
  #timedOut = false;
  #cancelled = false;
  #terminating = false;
  #problem: string | undefined;
  #killTimer: NodeJS.Timeout | undefined;
  #streamTimer: NodeJS.Timeout | undefined;
  readonly #timeoutTimer: NodeJS.Timeout;

  constructor(
    private readonly child: ChildProcess,
    private readonly run: Watched,
  ) {
    this.result = new Promise((resolve) => (this.#resolve = resolve));
    this.#pid = child.pid;
    this.#timeoutTimer = setTimeout(() => {
      this.#timedOut = true;
      this.#terminate();
    }, run.options.timeoutSec * 1000);
    child.on('error', this.#onError);
    child.on('exit', this.#onExit);
    child.on('close', this.#finish);
    if (this.#pid === undefined) return;
    run.options.signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      run.options.onStart?.(this.#pid);
    } catch (e: unknown) {
      this.#problem = `onStart callback failed: ${e instanceof Error ? e.message : String(e)}`;
      this.#terminate();
    }
  }

  #signalGroup(signal: NodeJS.Signals): void {
    if (this.#pid === undefined) return;
    try {
      process.kill(-this.#pid, signal);
    } catch (e: unknown) {
      // ESRCH: the whole group is already gone, which is what we wanted.
      if (isErrnoException(e) && e.code === 'ESRCH') return;
      this.#problem ??= `could not send ${signal} to process group ${this.#pid}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  #terminate(): void {
    if (this.#terminating || this.#exited) return;
    this.#terminating = true;
    this.#signalGroup('SIGTERM');
    this.#killTimer = setTimeout(
      () => this.#signalGroup('SIGKILL'),
      this.run.options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    );
  }

  readonly #onAbort = (): void => {
    this.#cancelled = true;
    this.#terminate();
  };

  #stopWatching(): void {
    clearTimeout(this.#timeoutTimer);
    this.run.options.signal?.removeEventListener('abort', this.#onAbort);
  }

  readonly #onError = (e: Error): void => {
    // With a pid, 'error' can only mean a failed child.kill(), which is never used here.
    if (this.#pid !== undefined) return;
    this.#problem = describeSpawnError(e, this.run.file, this.run.cwd);
    this.#exitCode = isErrnoException(e) && (e.code === 'EACCES' || e.code === 'EPERM') ? 126 : 127;
    this.#finish();
  };

  readonly #onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
    this.#exited = true;
    this.#exitCode = code;
    this.#exitSignal = signal;
    this.#stopWatching();
    // Background processes may keep the pipes open forever; do not wait for them.
    this.#streamTimer = setTimeout(() => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      this.#finish();
    }, this.run.options.streamGraceMs ?? DEFAULT_STREAM_GRACE_MS);
  };

  readonly #finish = (): void => {
    if (this.#settled) return;
    this.#settled = true;
    this.#stopWatching();
    clearTimeout(this.#streamTimer);
    // Members of the group that ignored the TERM still get the KILL when the grace runs out.
    if (this.#killTimer !== undefined && !groupAlive(this.#pid)) clearTimeout(this.#killTimer);
    const error =
      this.#problem ??
      (this.#timedOut
        ? `timed out after ${this.run.options.timeoutSec}s`
        : this.#cancelled
          ? 'cancelled'
          : undefined);
    this.#resolve({
      exitCode: this.#exitCode,
      signal: this.#exitSignal,
      timedOut: this.#timedOut,
      cancelled: this.#cancelled,
      ...this.run.captured(),
      startedAt: this.run.startedAt,
      endedAt: this.run.now(),
      ...(this.#pid !== undefined ? { pid: this.#pid } : {}),
      ...(error !== undefined ? { error } : {}),
    });
  };
}

function groupAlive(pgid: number | undefined): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function describeSpawnError(e: unknown, file: string, cwd: string): string {
  const code = isErrnoException(e) ? e.code : undefined;
  if (code === 'ENOENT') {
    return existsSync(cwd)
      ? `cannot run "${file}": command not found (check the name and the PATH given to the command)`
      : `cannot run "${file}": working directory ${cwd} does not exist`;
  }
  if (code === 'EACCES') return `cannot run "${file}": permission denied (not executable?)`;
  return `cannot run "${file}": ${e instanceof Error ? e.message : String(e)}`;
}

function isErrnoException(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && 'code' in e;
}
