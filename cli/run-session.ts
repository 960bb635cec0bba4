/**
 * Starting a run and following it to its end for `run`, `ping` and `show`: hosts are handed to a
 * printer as they land, and Ctrl-C either cancels the run (run, ping) or just stops watching (show).
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { RunRequest } from '#shared/messages.ts';
import type { NodeRunItem, RunMetaItem } from '#shared/runs-table.ts';
import { CliError } from './errors.ts';
import { describeCancel, requestCancel } from './run-cancel.ts';
import { watchRun, type ExecutionOutcome } from './run-watcher.ts';
import type { CliIO } from './context.ts';
import type { HostProgress } from './output/progress.ts';
import type { ConnectedStack } from './stack.ts';

/** Where a followed run's events go. */
export interface RunPrinter {
  host(node: NodeRunItem): void | Promise<void>;
  progress(answered: number, expected: number): void;
  /** A note for the operator (stderr), kept clear of the progress bar. */
  note(text: string): void;
  /** The run ended: every host as recorded then (without output), so what is printed is final. */
  settle?(nodes: readonly NodeRunItem[]): void;
}

/** A printer's progress bar and notes, the same for `run` and `ping`. */
export abstract class ProgressPrinter implements RunPrinter {
  constructor(
    protected readonly io: CliIO,
    protected readonly bar: HostProgress,
  ) {}

  abstract host(node: NodeRunItem): void | Promise<void>;

  progress(answered: number, expected: number): void {
    this.bar.update(answered, expected);
  }

  note(text: string): void {
    this.bar.above(() => this.io.err(text));
  }

  /** Removes the progress bar (the run is left before its end, or its end is about to print). */
  close(): void {
    this.bar.stop();
  }
}

export interface FollowOutcome {
  meta: RunMetaItem | undefined;
  execution: ExecutionOutcome | undefined;
  /** Ctrl-C was pressed while following. */
  interrupted: boolean;
  /** The run ended while we followed it. */
  finished: boolean;
}

export interface FollowOptions {
  /** On Ctrl-C: cancel the run (as `caller`) and wait this long for it to end; else stop watching. */
  cancelOnInterrupt?: { caller: string; waitMs: number };
  pollMs?: number;
}

/** Starts the run state machine (execution name = run id); returns the execution ARN. */
export async function startRun(conn: ConnectedStack, request: RunRequest): Promise<string> {
  // Proof of who starts the run, checked by Plan with STS (shared/caller-proof.ts). Without
  // usable credentials there is none, and the run records the caller as unproven.
  const { signCallerProof } = await import('#shared/caller-proof.ts');
  const callerProof = await signCallerProof({
    runId: request.runId,
    region: conn.region,
    credentials: conn.sfn.config.credentials,
    ...(conn.stsEndpoint !== undefined ? { endpoint: conn.stsEndpoint } : {}),
  }).catch(() => undefined);
  try {
    const out = await conn.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: conn.runStateMachineArn,
        name: request.runId,
        input: JSON.stringify({ ...request, ...(callerProof ? { callerProof } : {}) }),
      }),
    );
    return out.executionArn!;
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = conn.local
      ? 'is the local stack running? `npm start`'
      : 'check your credentials and the stage';
    throw new CliError(`could not start the run on stage ${conn.stage}: ${message} (${hint})`, 4, {
      cause: error,
    });
  }
}

export async function followRun(
  conn: ConnectedStack,
  io: CliIO,
  runId: string,
  executionArn: string,
  printer: RunPrinter,
  options: FollowOptions = {},
): Promise<FollowOutcome> {
  let interrupted = false;
  const stopListening = io.onInterrupt(() => (interrupted = true));
  let deadline: number | undefined;
  try {
    for await (const event of watchRun(conn, runId, executionArn, { pollMs: options.pollMs })) {
      if (interrupted && deadline === undefined) {
        const cancel = options.cancelOnInterrupt;
        if (!cancel) {
          printer.note(`\nStopped watching run ${runId}; it goes on (drover cancel ${runId} stops it).\n`);
          return { meta: undefined, execution: undefined, interrupted, finished: false };
        }
        printer.note(`\nInterrupted: asking the control plane to cancel run ${runId}…\n`);
        try {
          printer.note(describeCancel(await requestCancel(conn, runId, cancel.caller)) + '\n');
        } catch (error: unknown) {
          const message = error instanceof Error ? error.message : String(error);
          printer.note(`Could not cancel run ${runId}: ${message}. It goes on (drover cancel ${runId}).\n`);
          return { meta: undefined, execution: undefined, interrupted, finished: false };
        }
        deadline = Date.now() + cancel.waitMs;
      }
      if (deadline !== undefined && Date.now() > deadline) {
        printer.note(
          `Run ${runId} is still finishing (hosts reporting their stopped commands); drover show ${runId} prints the outcome.\n`,
        );
        return { meta: undefined, execution: undefined, interrupted, finished: false };
      }
      if (event.type === 'host') await printer.host(event.node);
      else if (event.type === 'progress') printer.progress(event.answered, event.expected);
      else {
        printer.settle?.(event.nodes);
        return { meta: event.meta, execution: event.execution, interrupted, finished: true };
      }
    }
  } finally {
    stopListening();
  }
  throw new CliError(`lost track of run ${runId}`);
}
