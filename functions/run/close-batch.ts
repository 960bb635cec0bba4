/**
 * Close a batch: give up on hosts that never acknowledged (`no_response`) or never sent their
 * result (`timed_out`), then decide whether the next batch goes out (`--max-errors`).
 */
import type { NodeRunItem } from '#shared/runs-table.ts';
import { resolveHostCount } from '#shared/messages.ts';
import { runStateSchema, type RunState } from './state.ts';
import type { RunStore } from './run-store.ts';

export interface CloseDeps {
  runs: RunStore;
  now: () => number;
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
  const nodes = await deps.runs.queryNodes(runId, { batch });
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
  return { ...state, batch: more ? next : batch, more };
}
