/**
 * How a run is printed, the same way by `drover run` (as hosts land) and `drover show` (from the
 * records): text blocks in the lineage's shape, one `--json` document, or `--jsonl` lines.
 */
import { describeLambdaCause } from '#shared/lambda-errors.ts';
import { RUN_ERRORS, isCompletedRun } from '#shared/run-errors.ts';
import type { NodeRunItem, RunMetaItem } from '#shared/runs-table.ts';
import { CliError } from './errors.ts';
import { EXIT, type CliIO } from './context.ts';
import { hasFilter } from '#shared/filter/describe.ts';
import { isDisplayed, type Display } from './output/display.ts';
import { hostBlock, summaryText } from './output/text.ts';
import { jsonlHostLine, jsonlSummaryLine, runJson } from './output/json.ts';
import type { HostProgress } from './output/progress.ts';
import type { ExecutionOutcome } from './run-watcher.ts';
import type { OutputFormat } from './output/printer-choice.ts';
import { ProgressPrinter } from './run-session.ts';
import { estimateRunCost, runCostText, type RunCost } from './cost/run-cost.ts';

export type { OutputFormat };

export interface ReportOptions {
  format: OutputFormat;
  display: Display;
  progress: HostProgress;
}

/** `--nodes` names no host of the run answers to, when the list alone chose the hosts. */
export function notAddressed(meta: RunMetaItem | undefined, nodes: readonly NodeRunItem[]): string[] {
  const wanted = meta?.options.nodes;
  if (!wanted || hasFilter(meta.filter)) return [];
  const known = new Set(nodes.flatMap((n) => [n.nodeId, n.identity]));
  return wanted.filter((name) => !known.has(name));
}

/**
 * The exit code of a run: the summary's (0–4), raised to 3 when `--nodes` named hosts that were
 * not addressed, as hosts that never answered would be.
 */
export function runExitCode(meta: RunMetaItem | undefined, notFound: readonly string[]): number {
  const base = meta?.summary?.exitCode ?? EXIT.invalid;
  if (notFound.length > 0 && (base === EXIT.ok || base === EXIT.commandFailed)) return EXIT.noResponse;
  return base;
}

/** Control-plane duration of the run; `fallbackMs` while its record lacks the times. */
export function runElapsedMs(meta: RunMetaItem | undefined, fallbackMs: number): number {
  if (meta?.startedAt !== undefined && meta.finishedAt !== undefined) return meta.finishedAt - meta.startedAt;
  return fallbackMs;
}

/** The run's estimated AWS cost from its record and the node items read (their output sizes). */
export function costOfRun(
  meta: RunMetaItem | undefined,
  nodes: readonly NodeRunItem[],
  elapsedMs: number,
): RunCost | undefined {
  if (!meta) return undefined;
  const outputBytes = nodes.reduce((sum, n) => sum + (n.stdout?.bytes ?? 0) + (n.stderr?.bytes ?? 0), 0);
  return estimateRunCost({
    hosts: meta.expected,
    batches: meta.batchCount,
    // Node items not read (a run still planning) fall back to the model's output size.
    ...(nodes.length >= meta.expected && meta.expected > 0 ? { outputBytes } : {}),
    watchSeconds: elapsedMs / 1000,
  });
}

/** Said when a batch's acknowledgement window closed while ingest still had replies queued. */
export function queuedAtCloseNote(queued: number): string {
  return (
    `Note: ${queued} ${queued === 1 ? 'reply was' : 'replies were'} still queued when the run stopped waiting for ` +
    'acknowledgements (the control plane was behind): hosts listed as not responding may have answered in time.'
  );
}

/**
 * Why the execution failed, in the operator's words; undefined when the run completed: SUCCEEDED,
 * or FAILED with `HostsFailed` (hosts failed: the run's record and exit code say which).
 */
export function executionFailure(execution: ExecutionOutcome | undefined): string | undefined {
  if (!execution || isCompletedRun(execution)) return undefined;
  if (execution.error === RUN_ERRORS.invalidRequest) return describeLambdaCause(execution.cause);
  return `${execution.error ?? execution.status}: ${describeLambdaCause(execution.cause)}`;
}

export class RunReport extends ProgressPrinter {
  readonly nodes: NodeRunItem[] = [];

  constructor(
    private readonly runId: string,
    io: CliIO,
    private readonly options: ReportOptions,
  ) {
    super(io, options.progress);
  }

  host(node: NodeRunItem): void {
    this.nodes.push(node);
    if (!isDisplayed(node, this.options.display)) return;
    if (this.options.format === 'jsonl') {
      this.io.out(JSON.stringify(jsonlHostLine(this.runId, node)) + '\n');
    } else if (this.options.format === 'text') {
      const block = hostBlock(node, { color: this.io.color });
      if (block) this.bar.above(() => this.io.out(block + '\n'));
    }
  }

  /**
   * Takes each host's final record (a host printed as it landed may have changed since: a reply
   * recorded `late`), keeping its output, so the hosts listed agree with the summary.
   */
  settle(nodes: readonly NodeRunItem[]): void {
    const final = new Map(nodes.map((n) => [n.nodeId, n]));
    for (const [i, node] of this.nodes.entries()) {
      const latest = final.get(node.nodeId);
      if (latest) this.nodes[i] = { ...node, ...latest, stdout: node.stdout, stderr: node.stderr };
    }
  }

  /** Prints the end of the run; returns its exit code. */
  finish(
    meta: RunMetaItem | undefined,
    execution: ExecutionOutcome | undefined,
    fallbackElapsedMs: number,
  ): number {
    this.close();
    const { io, runId } = this;
    // The record keeps a failed step's error after Step Functions has forgotten the execution.
    const failure = executionFailure(execution) ?? (meta?.status === 'error' ? meta.error : undefined);
    const notFound = notAddressed(meta, this.nodes);
    const exitCode = runExitCode(meta, notFound);
    const elapsed = runElapsedMs(meta, fallbackElapsedMs);
    const summary = meta?.summary;
    const cost = costOfRun(meta, this.nodes, elapsed);
    const extras = { exitCode, notFound, cost, ...(failure ? { error: failure } : {}) };
    if (this.options.format === 'json') {
      const shown = this.nodes.filter((n) => isDisplayed(n, this.options.display));
      io.out(JSON.stringify(runJson(runId, meta, shown, elapsed, extras), null, 2) + '\n');
    } else if (this.options.format === 'jsonl') {
      io.out(JSON.stringify(jsonlSummaryLine(runId, meta, elapsed, extras)) + '\n');
    } else if (summary) {
      if (meta?.status === 'skipped') {
        io.err(
          `Run ${runId} was skipped: the previous run of schedule ${meta.schedule ?? '?'}${meta.skippedFor ? ` (${meta.skippedFor})` : ''} was still going.\n`,
        );
      } else if (summary.expected === 0 && notFound.length > 0) {
        io.err(
          `No hosts matched: none of the --nodes hosts is in the fleet (unknown or stale): ${notFound.join(', ')}\n`,
        );
      } else if (summary.expected === 0) {
        io.err('No hosts matched the filter.\n');
      } else {
        io.out(summaryText(summary, this.nodes, elapsed, { color: io.color }, { notFound }));
        // A run that matched nothing prints nothing on stdout; its (tiny) cost is in --json.
        if (cost) io.out(`${runCostText(cost)}\n`);
      }
    }
    if (meta?.repliesQueuedAtClose && this.options.format === 'text') {
      io.err(`${queuedAtCloseNote(meta.repliesQueuedAtClose)}\n`);
    }
    if (meta?.status === 'cancelled' && this.options.format === 'text') {
      io.err(`Run ${runId} was cancelled${meta.error ? ` (${meta.error})` : ''}.\n`);
    }
    if (failure && !summary) throw new CliError(`run ${runId} was refused: ${failure}`);
    if (failure) io.err(`run ${runId} ended with an error: ${failure}\n`);
    return exitCode;
  }
}
