/**
 * Close a batch: give up on hosts that never acknowledged (`no_response`) or never sent their
 * result (`timed_out`), then decide whether the next batch goes out (`--max-errors`).
 */
import type { NodeRunItem } from '#shared/runs-table.ts';
import { resolveHostCount } from '#shared/messages.ts';
import { ackWindowSec } from '#shared/request-expiry.ts';
import { runStateSchema, type RunState } from './state.ts';
import { groupIndices } from './dispatch-groups.ts';
import { tallyCounts, unanswered } from './reply-transitions.ts';
import type { RunStore } from '#shared/stores/runs-store.ts';

/** What the replies queue holds (GetQueueAttributes): not yet received, and received by ingest. */
export interface RepliesBacklog {
  visible: number;
  inFlight: number;
}

export interface CloseDeps {
  runs: RunStore;
  now: () => number;
  /** Waits between reads while replies are still landing (tests pass a no-op). */
  sleep?: (ms: number) => Promise<void>;
  /** The replies queue's backlog; without it only the hosts' statuses tell whether ingest is behind. */
  repliesBacklog?: () => Promise<RepliesBacklog>;
  log?: { warn(message: string, details: Record<string, unknown>): void };
}

/**
 * While hosts are unanswered (no ack, or no result), CloseBatch waits before giving up on anyone,
 * as long as ingest may still be holding an answer of theirs: answers are being recorded (fewer
 * hosts unanswered than at the read before), or the replies queue has messages not yet received,
 * or the number ingest holds in flight moves. A read of the counts (the batch item, and the
 * tallies of its groups not yet done: never the node items, which a batch of 50,000 hosts would
 * make 50,000 reads a second) and one GetQueueAttributes each second,
 * until two in a row find none of that, 20 at most (`INGEST_GRACE`, docs/architecture.md). So a
 * host whose ack reached SQS in time is not made `no_response` because ingest was 15 s behind; and
 * a poison message stuck in flight (same count, nothing visible) holds no close for long. What
 * lands after that is still judged by its SentTimestamp (the ledger) until Finish seals it.
 */
export const INGEST_GRACE = { stepMs: 1_000, quietReads: 2, maxReads: 20 };

/**
 * Hosts of the batch still owing an answer, from its counts: the groups the batch records as done
 * owe none; the others' tallies say how many they owe.
 */
async function unansweredNow(runs: RunStore, runId: string, batch: number): Promise<number> {
  const item = await runs.getBatch(runId, batch);
  if (!item) return 0;
  const open = groupIndices(item.groupCount ?? 1).filter((g) => !item.groupsDone?.has(g));
  if (open.length === 0) return 0;
  const tallies = await runs.getTallies(runId, batch, open);
  return tallies.reduce((sum, tally) => sum + unanswered(tallyCounts(tally)), 0);
}

/**
 * The backlog, or undefined without a probe or when asking fails (throttled, denied): the backlog
 * only lengthens a wait, so a failure to read it must not fail the run; the hosts' statuses alone
 * decide then, as before the probe existed.
 */
async function backlogOf(deps: CloseDeps, runId: string): Promise<RepliesBacklog | undefined> {
  try {
    return await deps.repliesBacklog?.();
  } catch (error: unknown) {
    deps.log?.warn('replies backlog unknown', { runId, error: String(error) });
    return undefined;
  }
}

/** The batch's nodes once replies have stopped landing, and what the queue still held then. */
async function nodesOnceQuiet(
  runId: string,
  batch: number,
  deps: CloseDeps,
): Promise<{ nodes: NodeRunItem[]; queued: number }> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let waiting = await unansweredNow(deps.runs, runId, batch);
  if (waiting === 0) return { nodes: await deps.runs.queryNodes(runId, { batch }), queued: 0 };
  let backlog = await backlogOf(deps, runId);
  let quiet = 0;
  let reads = 0;
  for (; waiting > 0 && quiet < INGEST_GRACE.quietReads && reads < INGEST_GRACE.maxReads; reads++) {
    await sleep(INGEST_GRACE.stepMs);
    const now = await unansweredNow(deps.runs, runId, batch);
    const before = backlog;
    backlog = now > 0 ? await backlogOf(deps, runId) : undefined;
    const queueBusy =
      backlog !== undefined && (backlog.visible > 0 || backlog.inFlight !== (before?.inFlight ?? 0));
    quiet = now < waiting || queueBusy ? 0 : quiet + 1;
    waiting = now;
  }
  // The bound passed with hosts unanswered and ingest still busy: say how much it still held.
  const ranOut = reads === INGEST_GRACE.maxReads && waiting > 0 && quiet < INGEST_GRACE.quietReads;
  const queued = ranOut && backlog ? backlog.visible + backlog.inFlight : 0;
  return { nodes: await deps.runs.queryNodes(runId, { batch }), queued };
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
  const { nodes, queued } = cancelled
    ? { nodes: await deps.runs.queryNodes(runId, { batch }), queued: 0 }
    : await nodesOnceQuiet(runId, batch, deps);
  if (queued > 0) {
    // The wait ran out with replies still queued: some hosts given up on below may have answered
    // in time. Said on the run (drover show, --json), the largest of its batches.
    deps.log?.warn('window closed with replies still queued', { runId, batch, queued });
    await deps.runs.updateMeta(runId, {
      repliesQueuedAtClose: Math.max(queued, meta?.repliesQueuedAtClose ?? 0),
    });
  }
  await Promise.all(
    nodes.map(async (node) => {
      const silent: NodeRunItem['status'] = cancelled ? 'cancelled' : 'no_response';
      const unfinished: NodeRunItem['status'] = cancelled ? 'cancelled' : 'timed_out';
      if (
        node.status === 'pending' &&
        (await deps.runs.closeNode(node.runId, node.nodeId, 'pending', silent))
      ) {
        node.status = silent;
      } else if (
        node.status === 'acked' &&
        (await deps.runs.closeNode(node.runId, node.nodeId, 'acked', unfinished))
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
