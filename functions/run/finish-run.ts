/**
 * Finish a run: hosts of batches never dispatched become `skipped`, the summary is computed and
 * stored with the final status, and `Run Completed` goes to the stage's event bus.
 */
import type { RunStatus, RunSummary } from '#shared/runs-table.ts';
import { describeLambdaCause } from '#shared/lambda-errors.ts';
import { RUN_ERRORS } from '#shared/run-errors.ts';
import { finishInputSchema } from './state.ts';
import { summarize } from './summary.ts';
import type { RunStore } from './run-store.ts';

export interface RunEventPublisher {
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
}

export interface FinishDeps {
  runs: RunStore;
  events: RunEventPublisher;
  now: () => number;
}

/**
 * The run execution's output: what `drover run` would report, so a caller without the CLI
 * (`sls invoke stepf`, a schedule) can tell: `exitCode` is the CLI's (0–4), `status` the run's.
 */
export interface FinishOutput {
  runId: string;
  status: RunStatus;
  exitCode: number;
  summary: RunSummary;
}

/** The error a failed step handed the finish step: its name, as the state machine caught it. */
export function runStatusOf(
  summary: RunSummary,
  errorName: string | undefined,
  previous: RunStatus,
): RunStatus {
  if (previous === 'cancelled') return 'cancelled';
  if (errorName !== undefined) return errorName === RUN_ERRORS.invalidRequest ? 'invalid' : 'error';
  if (summary.expected === 0) return 'no_match';
  return summary.exitCode === 0 ? 'succeeded' : 'failed';
}

export async function finishRun(input: unknown, deps: FinishDeps): Promise<FinishOutput> {
  const { runId, error } = finishInputSchema.parse(input);
  const meta = await deps.runs.getMeta(runId);
  const nodes = meta ? await deps.runs.queryNodes(runId) : [];
  await Promise.all(
    nodes
      .filter((n) => n.status === 'pending')
      .map(async (node) => {
        const status = meta?.status === 'cancelled' ? 'cancelled' : 'skipped';
        if (await deps.runs.closeNode(runId, node.nodeId, 'pending', status)) node.status = status;
      }),
  );
  const errorText = error ? `${error.Error}: ${describeLambdaCause(error.Cause)}` : undefined;
  const summary = summarize(nodes, meta?.status === 'cancelled' ? undefined : meta?.error);
  // A step that failed leaves the run's outcome unknown: exit 4, as for a refused request.
  if (error) summary.exitCode = 4;
  const status = runStatusOf(summary, error?.Error, meta?.status ?? 'running');
  const finishedAt = deps.now();
  if (meta) {
    await deps.runs.updateMeta(runId, {
      status,
      summary,
      finishedAt,
      ...(errorText ? { error: errorText } : {}),
    });
  }
  await deps.events.publish('Run Completed', { runId, status, summary, caller: meta?.caller ?? 'unknown' });
  return { runId, status, exitCode: summary.exitCode, summary };
}
