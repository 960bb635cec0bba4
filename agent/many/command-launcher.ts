/**
 * Runs commands from a small child process, the launcher, instead of from this one.
 *
 * A process that hosts many agents (demo fleets, load tests: `--hosts`) is large, and Node forks the
 * whole process for every command: about 1 ms of CPU per fork at 150 MB, and the event loop that
 * every agent of the process shares stands still until the child has exec'd (2–4 ms on a busy
 * machine), so a burst of commands queues behind one another. The launcher is a bare Node process
 * (about 50 MB) running the same `executeCommand`; only the command, its options and the result
 * cross the IPC channel. A host's own agent, one per process, spawns directly and needs none.
 *
 * If the launcher dies, the commands it was running are killed (their process groups get SIGKILL)
 * and reported as not finished, with the reason; the next command starts a new launcher.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Command } from '#shared/messages.ts';
import {
  executeCommand,
  notRunResult,
  type ExecuteOptions,
  type ExecutionResult,
} from '../execute/executor.ts';

/** Set in the launcher's environment when the agent bundle itself is the launcher's entry. */
export const LAUNCHER_ENV = 'DROVER_AGENT_LAUNCHER';

/** How long `close()` waits for running commands, then for the launcher to exit (then SIGKILL). */
const CLOSE_TIMEOUT_MS = 5_000;

/** The options that cross the channel: everything but the callbacks and the abort signal. */
export type LaunchOptions = Omit<ExecuteOptions, 'signal' | 'onStart' | 'now'>;

export type ToLauncher =
  { type: 'run'; id: number; command: Command; options: LaunchOptions } | { type: 'cancel'; id: number };

export type FromLauncher =
  { type: 'started'; id: number; pid: number } | { type: 'done'; id: number; result: ExecutionResult };

interface Pending {
  resolve: (result: ExecutionResult) => void;
  options: ExecuteOptions;
  startedAt: number;
  pid?: number;
  /** Set when onStart threw: the command is cancelled and the result says why. */
  problem?: string;
  onAbort?: () => void;
}

/** V8 flag of the launcher process (see where it is forked). */
export const LAUNCHER_V8_FLAG = '--max-semi-space-size=1';

/** Where the launcher's code is: next to this file from the sources, the bundle itself once bundled. */
function launcherEntry(): { modulePath: string; env: Record<string, string> } {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? { modulePath: fileURLToPath(new URL('./launcher.cjs', import.meta.url)), env: {} }
    : { modulePath: here, env: { [LAUNCHER_ENV]: '1' } };
}

export class CommandLauncher {
  #child: ChildProcess | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed = false;
  /** Resolves `close()`'s wait once the last pending command has its result. */
  #drained: (() => void) | undefined;
  readonly #onProblem: (message: string) => void;
  readonly #closeTimeoutMs: number;

  /** `onProblem` hears about a launcher that died or could not start (the results say so too). */
  constructor(options: { onProblem?: (message: string) => void; closeTimeoutMs?: number } = {}) {
    this.#onProblem = options.onProblem ?? (() => undefined);
    this.#closeTimeoutMs = options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS;
  }

  /** Starts the launcher now rather than with the first command (which would wait for it). */
  start(): void {
    if (!this.#closed) this.#launcher();
  }

  /** The launcher's pid, once one runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Same contract as `executeCommand`: never rejects, every way a command ends is a result. */
  readonly execute = (command: Command, options: ExecuteOptions): Promise<ExecutionResult> => {
    // Nothing to launch: executeCommand answers at once, exactly as it would in the launcher.
    if (options.signal?.aborted) return executeCommand(command, options);
    const startedAt = Date.now();
    if (this.#closed)
      return Promise.resolve(failed(startedAt, 'the agent is stopping: the command was not run'));
    const id = this.#nextId++;
    return new Promise<ExecutionResult>((resolve) => {
      const pending: Pending = { resolve, options, startedAt };
      this.#pending.set(id, pending);
      const { signal, onStart: _onStart, now: _now, ...launchOptions } = options;
      if (signal) {
        pending.onAbort = () => this.#send({ type: 'cancel', id });
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#send({ type: 'run', id, command, options: launchOptions });
    });
  };

  /**
   * Stops taking commands, waits (up to 5 s) for the launcher to finish the ones it runs (agents
   * stop theirs first), then closes the channel, so the launcher exits; SIGKILL if it has not
   * within another 5 s.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const child = this.#child;
    if (!child) return;
    // Agents stop their commands before this; should one still run after the timeout, the launcher
    // cancels it when the channel closes (TERM, then KILL) and exits, and its result says why.
    if (this.#pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((r) => (this.#drained = r)),
        new Promise<void>((r) => (timer = setTimeout(r, this.#closeTimeoutMs))),
      ]);
      clearTimeout(timer);
    }
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    if (child.connected) child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), this.#closeTimeoutMs);
    await exited;
    clearTimeout(timer);
  }

  #send(message: ToLauncher): void {
    const child = this.#launcher();
    if (!child) return;
    child.send(message, (error) => {
      if (error && child === this.#child)
        this.#lost(child, `could not reach the command launcher: ${error.message}`);
    });
  }

  /** The running launcher, started if need be; undefined if it cannot start (pending ones are told). */
  #launcher(): ChildProcess | undefined {
    if (this.#child) return this.#child;
    if (this.#closed) return undefined;
    const entry = launcherEntry();
    let child: ChildProcess;
    try {
      child = fork(entry.modulePath, [], {
        // Not the agent's loader flags, which would make it large again. A 1 MB young generation
        // keeps it ~20 MB smaller: forking costs both sides in proportion to the parent's resident
        // memory, so each command costs ~0.7 ms less CPU (launcher and command together).
        execArgv: [LAUNCHER_V8_FLAG],
        env: { ...process.env, ...entry.env },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'advanced',
      });
    } catch (e: unknown) {
      this.#failAll(`cannot start the command launcher: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    }
    this.#child = child;
    child.on('message', (message: FromLauncher) => this.#receive(message));
    child.on('error', (e) => this.#lost(child, `the command launcher failed: ${e.message}`));
    child.on('exit', (code, signal) =>
      this.#lost(child, `the command launcher (pid ${child.pid}) exited (${signal ?? `code ${code}`})`),
    );
    return child;
  }

  #receive(message: FromLauncher): void {
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    if (message.type === 'started') {
      pending.pid = message.pid;
      try {
        pending.options.onStart?.(message.pid);
      } catch (e: unknown) {
        pending.problem = `onStart callback failed: ${e instanceof Error ? e.message : String(e)}`;
        this.#send({ type: 'cancel', id: message.id });
      }
      return;
    }
    const { result } = message;
    this.#settle(message.id, pending.problem ? { ...result, error: pending.problem } : result);
  }

  /** The launcher is gone: whatever it ran is killed and reported; the next command starts a new one. */
  #lost(child: ChildProcess, reason: string): void {
    if (child !== this.#child) return;
    this.#child = undefined;
    if (this.#closed) {
      // Expected: close() ended it. Anything still pending was cancelled by it on the way out.
      this.#failAll('the agent stopped the command launcher');
      return;
    }
    this.#onProblem(reason);
    this.#failAll(reason);
  }

  #failAll(reason: string): void {
    for (const [id, pending] of this.#pending) {
      if (pending.pid !== undefined) killGroup(pending.pid);
      const killed = pending.pid !== undefined ? `; process group ${pending.pid} was killed` : '';
      this.#settle(id, failed(pending.startedAt, `${reason} while the command ran${killed}`, pending.pid));
    }
  }

  #settle(id: number, result: ExecutionResult): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (pending.onAbort) pending.options.signal?.removeEventListener('abort', pending.onAbort);
    pending.resolve(result);
    if (this.#pending.size === 0) this.#drained?.();
  }
}

/** The result of a command the launcher could not see through: nothing captured, and why. */
function failed(startedAt: number, error: string, pid?: number): ExecutionResult {
  return {
    ...notRunResult(Date.now(), { exitCode: null, error }),
    startedAt,
    ...(pid !== undefined ? { pid } : {}),
  };
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}
