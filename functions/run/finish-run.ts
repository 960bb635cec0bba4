/**
 * Finish a run: hosts of batches never dispatched become `skipped`, the summary is computed and
 * stored with the final status, and `Run Completed` goes to the stage's event bus.
 */
import type { NodeRunItem, RunStatus, RunSummary } from '#shared/runs-table.ts';
import { describeLambdaCause } from '#shared/lambda-errors.ts';
import { RUN_ERRORS } from '#shared/run-errors.ts';
import { finishInputSchema } from './state.ts';
import { summarize } from './summary.ts';
import type { RunStore } from '#shared/stores/runs-store.ts';
import type { ScheduleLock } from '#shared/stores/schedule-lock.ts';

export interface RunEventPublisher {
  publish(detailType: string, detail: Record<string, unknown>): Promise<void>;
}

export interface FinishDeps {
  runs: RunStore;
  events: RunEventPublisher;
  now: () => number;
  /** Needed to hand a schedule's turn back; runs without a schedule never use it. */
  scheduleLock?: ScheduleLock;
}

/** Final statuses of a scheduled run that page someone: `Run Failed` on the bus. */
const FAILED_STATUSES: ReadonlySet<RunStatus> = new Set(['failed', 'error', 'invalid']);

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
  if (previous === 'skipped') return 'skipped';
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
        if (await deps.runs.closeNode(node.runId, node.nodeId, 'pending', status)) node.status = status;
      }),
  );
  if (meta) await settleForSummary(runId, nodes, meta.status === 'cancelled', deps);
  const errorText = error ? `${error.Error}: ${describeLambdaCause(error.Cause)}` : undefined;
  const summary = summarize(nodes, meta?.status === 'cancelled' ? undefined : meta?.error);
  // A step that failed leaves the run's outcome unknown: exit 4, as for a refused request.
  if (error) summary.exitCode = 4;
  const status = runStatusOf(summary, error?.Error, meta?.status ?? 'running');
  // A fire skipped for overlap did what it should: nothing, on purpose.
  if (meta?.status === 'skipped') summary.exitCode = 0;
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
  if (meta?.schedule) await finishScheduled(meta.schedule, runId, status, summary, deps);
  return { runId, status, exitCode: summary.exitCode, summary };
}

/** How many times Finish reads again a node a reply changed while it was being sealed. */
const SEAL_ATTEMPTS = 5;

/**
 * Makes the nodes Finish counts stay what it counts them as. A host acknowledged after its batch
 * closed (its ack reached SQS in time but was recorded late) and never reported is given up on
 * (`timed_out`); every node the run gave up on is sealed with the status Finish read, and if a
 * reply changed it first it is read again. A reply after the seal is recorded `late`, marked as
 * recorded after the summary (which counted it as its `lateAs`). Nodes with a result, or rejected,
 * never change again and cost nothing here.
 */
async function settleForSummary(
  runId: string,
  nodes: NodeRunItem[],
  cancelled: boolean,
  deps: FinishDeps,
): Promise<void> {
  await Promise.all(
    nodes.map(async (node, i) => {
      let current: NodeRunItem | undefined = node;
      for (let attempt = 0; current && attempt < SEAL_ATTEMPTS; attempt++) {
        if (current.status === 'acked') {
          const to = cancelled ? 'cancelled' : 'timed_out';
          if (!(await deps.runs.closeNode(current.runId, current.nodeId, 'acked', to))) {
            current = await deps.runs.getNode(current.runId, current.nodeId);
            continue;
          }
          current = { ...current, status: to, closed: true };
        }
        if (!current.closed || current.sealed) break;
        if (await deps.runs.sealNode(current.runId, current.nodeId, current.status)) break;
        current = await deps.runs.getNode(current.runId, current.nodeId);
      }
      if (current) nodes[i] = current;
    }),
  );
}

/**
 * A scheduled run's own ending: a skipped fire names the run it gave way to; a run that held the
 * schedule's turn hands it back; a failure is announced with the schedule's name (users route
 * `Run Failed` to a pager).
 */
async function finishScheduled(
  schedule: string,
  runId: string,
  status: RunStatus,
  summary: RunSummary,
  deps: FinishDeps,
): Promise<void> {
  if (status === 'skipped') {
    const runningRunId = (await deps.scheduleLock?.holder(schedule)) ?? null;
    if (runningRunId) await deps.runs.updateMeta(runId, { skippedFor: runningRunId });
    await deps.events.publish('Scheduled Run Skipped', { runId, schedule, runningRunId });
    return;
  }
  await deps.scheduleLock?.release(schedule, runId);
  if (FAILED_STATUSES.has(status)) {
    await deps.events.publish('Run Failed', { runId, schedule, status, exitCode: summary.exitCode, summary });
  }
}
