/**
 * Finish a run: hosts of batches never dispatched become `skipped`, the summary is computed and
 * stored with the final status, and `Run Completed` goes to the stage's event bus.
 */
import type { RunStatus, RunSummary } from '#shared/runs-table.ts';
import { describeLambdaCause } from '#shared/lambda-errors.ts';
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

export interface FinishOutput {
  runId: string;
  status: RunStatus;
  summary: RunSummary;
}

export function runStatusOf(summary: RunSummary, error: string | undefined, previous: RunStatus): RunStatus {
  if (previous === 'cancelled') return 'cancelled';
  if (error) return error.startsWith('InvalidRunRequest') ? 'invalid' : 'error';
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
  if (errorText?.startsWith('InvalidRunRequest')) summary.exitCode = 4;
  const status = runStatusOf(summary, errorText, meta?.status ?? 'running');
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
  return { runId, status, summary };
}
