/**
 * Runs one command on the host: in its own process group, with a timeout and cancellation that
 * reach every process the command started, and with stdout and stderr captured separately in
 * bounded memory (head and tail kept). Never rejects: every way a command can end is a result.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
// Types only: the command launcher runs this module and should not load the schemas (zod).
import type { Command, CapturedStream } from '#shared/messages.ts';
import { fitStreams, type StreamParts } from '#shared/output-fit.ts';

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

  return new Promise<ExecutionResult>((resolve) => {
    const pid = child.pid;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let exited = false;
    let settled = false;
    let timedOut = false;
    let cancelled = false;
    let terminating = false;
    let problem: string | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let streamTimer: NodeJS.Timeout | undefined;

    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    const signalGroup = (signal: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        process.kill(-pid, signal);
      } catch (e: unknown) {
        // ESRCH: the whole group is already gone, which is what we wanted.
        if (isErrnoException(e) && e.code === 'ESRCH') return;
        problem ??= `could not send ${signal} to process group ${pid}: ${e instanceof Error ? e.message : String(e)}`;
      }
    };

    const terminate = (): void => {
      if (terminating || exited) return;
      terminating = true;
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    };

    const onAbort = (): void => {
      cancelled = true;
      terminate();
    };

    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, options.timeoutSec * 1000);

    const stopWatching = (): void => {
      clearTimeout(timeoutTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    const finish = (): void => {
      if (settled) return;
      settled = true;
      stopWatching();
      clearTimeout(streamTimer);
      // Members of the group that ignored the TERM still get the KILL when the grace runs out.
      if (killTimer !== undefined && !groupAlive(pid)) clearTimeout(killTimer);
      const error =
        problem ??
        (timedOut ? `timed out after ${options.timeoutSec}s` : cancelled ? 'cancelled' : undefined);
      resolve({
        exitCode,
        signal: exitSignal,
        timedOut,
        cancelled,
        ...captured(),
        startedAt,
        endedAt: now(),
        ...(pid !== undefined ? { pid } : {}),
        ...(error !== undefined ? { error } : {}),
      });
    };

    child.on('error', (e: Error) => {
      // With a pid, 'error' can only mean a failed child.kill(), which is never used here.
      if (pid !== undefined) return;
      problem = describeSpawnError(e, file, cwd);
      exitCode = isErrnoException(e) && (e.code === 'EACCES' || e.code === 'EPERM') ? 126 : 127;
      finish();
    });

    child.on('exit', (code, signal) => {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      stopWatching();
      // Background processes may keep the pipes open forever; do not wait for them.
      streamTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, options.streamGraceMs ?? DEFAULT_STREAM_GRACE_MS);
    });

    child.on('close', finish);

    if (pid === undefined) return;
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      options.onStart?.(pid);
    } catch (e: unknown) {
      problem = `onStart callback failed: ${e instanceof Error ? e.message : String(e)}`;
      terminate();
    }
  });
}

/** Keeps the first and the last `capBytes / 2` bytes of a stream, and counts all of them. */
export class HeadTailBuffer {
  private readonly headCap: number;
  private readonly tailCap: number;
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private ring: Buffer | undefined;
  private ringWrite = 0;
  private ringFilled = 0;
  private total = 0;

  constructor(capBytes: number) {
    const cap = Math.max(0, Math.floor(capBytes));
    this.headCap = Math.floor(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headLength < this.headCap) {
      const taken = rest.subarray(0, this.headCap - this.headLength);
      this.head.push(Buffer.from(taken));
      this.headLength += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length > 0 && this.tailCap > 0) this.pushTail(rest);
  }

  /** What was kept, to be rendered (shared/output-fit.ts): head + omission marker + tail. */
  parts(): StreamParts {
    return {
      head: Buffer.concat(this.head).toString('utf8'),
      tail: this.tailBytes().toString('utf8'),
      omitted: this.total - this.headLength - this.ringFilled,
      bytes: this.total,
    };
  }

  private pushTail(chunk: Buffer): void {
    const ring = (this.ring ??= Buffer.alloc(this.tailCap));
    if (chunk.length >= this.tailCap) {
      chunk.copy(ring, 0, chunk.length - this.tailCap);
      this.ringWrite = 0;
      this.ringFilled = this.tailCap;
      return;
    }
    const first = Math.min(chunk.length, this.tailCap - this.ringWrite);
    chunk.copy(ring, this.ringWrite, 0, first);
    if (first < chunk.length) chunk.copy(ring, 0, first);
    this.ringWrite = (this.ringWrite + chunk.length) % this.tailCap;
    this.ringFilled = Math.min(this.tailCap, this.ringFilled + chunk.length);
  }

  private tailBytes(): Buffer {
    if (this.ring === undefined) return Buffer.alloc(0);
    if (this.ringFilled < this.tailCap) return this.ring.subarray(0, this.ringFilled);
    return Buffer.concat([this.ring.subarray(this.ringWrite), this.ring.subarray(0, this.ringWrite)]);
  }
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
