/**
 * Close a batch: give up on hosts that never acknowledged (`no_response`) or never sent their
 * result (`timed_out`), then decide whether the next batch goes out (`--max-errors`).
 */
import type { NodeRunItem } from '#shared/runs-table.ts';
import { resolveHostCount } from '#shared/messages.ts';
import { ackWindowSec } from '#shared/request-expiry.ts';
import { runStateSchema, type RunState } from './state.ts';
import { groupIndices } from './dispatch-groups.ts';
import type { RunStore } from './run-store.ts';

export interface CloseDeps {
  runs: RunStore;
  now: () => number;
  /** Waits between reads while replies are still landing (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * While hosts are unanswered (no ack, or no result) and answers are still being recorded (ingest
 * is behind: fewer hosts were unanswered at the last read than at the one before), CloseBatch
 * waits before giving up on anyone: a second between reads, until two reads in a row change
 * nothing, 15 reads at most. What lands after that is judged by its SentTimestamp against the
 * window (the ledger), so an ack that reached SQS in time still counts.
 */
const INGEST_GRACE = { stepMs: 1_000, stallReads: 2, maxReads: 15 };

const unanswered = (nodes: readonly NodeRunItem[]) =>
  nodes.filter((n) => n.status === 'pending' || n.status === 'acked').length;

/** The batch's nodes once replies have stopped landing (at once if every host has answered). */
async function nodesOnceQuiet(runId: string, batch: number, deps: CloseDeps): Promise<NodeRunItem[]> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let nodes = await deps.runs.queryNodes(runId, { batch });
  let waiting = unanswered(nodes);
  let still = 0;
  for (
    let reads = 0;
    waiting > 0 && still < INGEST_GRACE.stallReads && reads < INGEST_GRACE.maxReads;
    reads++
  ) {
    await sleep(INGEST_GRACE.stepMs);
    nodes = await deps.runs.queryNodes(runId, { batch });
    const now = unanswered(nodes);
    still = now < waiting ? 0 : still + 1;
    waiting = now;
  }
  return nodes;
}

const ERROR_STATUSES = new Set<NodeRunItem['status']>([
  'failed',
  'timed_out',
  'no_response',
  'rejected',
  'unreachable',
]);

/** Hosts that count against `--max-errors`. */
export function countErrors(nodes: readonly NodeRunItem[]): number {
  return nodes.filter((n) => ERROR_STATUSES.has(n.status) || (n.status === 'late' && n.closed)).length;
}

export async function closeBatch(input: unknown, deps: CloseDeps): Promise<RunState> {
  const state = runStateSchema.parse(input);
  const { runId, batch } = state;
  const meta = await deps.runs.getMeta(runId);
  const cancelled = meta?.status === 'cancelled';
  // The window's end is on the batch before anyone is given up on: a reply that reached SQS by
  // then and is recorded after this step still counts (the ledger compares its SentTimestamp).
  const dispatchedAt = (await deps.runs.getBatch(runId, batch))?.dispatchedAt;
  if (dispatchedAt !== undefined && meta) {
    const windowEnd = dispatchedAt + ackWindowSec(meta.options) * 1000;
    await deps.runs.markAckWindowEnd(runId, batch, Math.min(windowEnd, deps.now()));
  }
  const nodes = cancelled
    ? await deps.runs.queryNodes(runId, { batch })
    : await nodesOnceQuiet(runId, batch, deps);
  await Promise.all(
    nodes.map(async (node) => {
      const silent: NodeRunItem['status'] = cancelled ? 'cancelled' : 'no_response';
      const unfinished: NodeRunItem['status'] = cancelled ? 'cancelled' : 'timed_out';
      if (node.status === 'pending' && (await deps.runs.closeNode(runId, node.nodeId, 'pending', silent))) {
        node.status = silent;
      } else if (
        node.status === 'acked' &&
        (await deps.runs.closeNode(runId, node.nodeId, 'acked', unfinished))
      ) {
        node.status = unfinished;
      }
    }),
  );
  await deps.runs.markBatchClosed(runId, batch, deps.now());

  const next = batch + 1;
  let more = next < state.batchCount && !cancelled;
  const maxErrors =
    meta?.options.maxErrors === undefined
      ? undefined
      : resolveHostCount(meta.options.maxErrors, meta.expected, 'down');
  if (more && maxErrors !== undefined) {
    const errors = countErrors(await deps.runs.queryNodes(runId));
    if (errors > maxErrors) {
      more = false;
      await deps.runs.updateMeta(runId, {
        error: `stopped after batch ${batch + 1} of ${state.batchCount}: ${errors} hosts failed (--max-errors ${meta?.options.maxErrors})`,
      });
    }
  }
  return {
    ...state,
    batch: more ? next : batch,
    more,
    groups: more ? await groupsOf(runId, next, deps) : [],
  };
}

/** The next batch's dispatch groups, as Plan recorded them on its item (one on older runs). */
async function groupsOf(runId: string, batch: number, deps: CloseDeps): Promise<number[]> {
  const item = await deps.runs.getBatch(runId, batch);
  if (!item) throw new Error(`run ${runId} has no record of batch ${batch}`);
  return groupIndices(item.groupCount ?? 1);
}
