/**
 * Follows a run while it executes: yields each host the moment its outcome is recorded, then the
 * final record once the execution has ended.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { getRunMeta, getRunNodes, queryRunNodes } from '#shared/run-reader.ts';
import { TERMINAL_NODE_STATUSES, type NodeRunItem, type RunMetaItem } from '#shared/runs-table.ts';
import type { StackConnection } from './stack.ts';

export interface ExecutionOutcome {
  status: string;
  error?: string;
  cause?: string;
}

export type WatchEvent =
  | { type: 'host'; node: NodeRunItem }
  | { type: 'progress'; answered: number; expected: number }
  | { type: 'done'; meta: RunMetaItem | undefined; execution: ExecutionOutcome };

/**
 * The order hosts are printed in: as their results were recorded, hosts without a result (given
 * up on) after them, ties by identity. `drover show` uses it to print a run as `run` did.
 */
export function byLanding(a: NodeRunItem, b: NodeRunItem): number {
  const at = (n: NodeRunItem) => n.resultAt ?? Number.MAX_SAFE_INTEGER;
  return at(a) - at(b) || a.identity.localeCompare(b.identity);
}

export async function* watchRun(
  conn: StackConnection,
  runId: string,
  executionArn: string,
  pollMs = 100,
): AsyncGenerator<WatchEvent> {
  const seen = new Set<string>();
  for (;;) {
    const execution = await conn.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const finished = execution.status !== 'RUNNING';
    const nodes = await queryRunNodes(conn.db, conn.runsTable, runId);
    const landed = nodes.filter((n) => TERMINAL_NODE_STATUSES.has(n.status) && !seen.has(n.nodeId));
    if (landed.length > 0) {
      const full = await getRunNodes(
        conn.db,
        conn.runsTable,
        runId,
        landed.map((n) => n.nodeId),
      );
      for (const node of full.sort(byLanding)) {
        seen.add(node.nodeId);
        yield { type: 'host', node };
      }
    }
    yield { type: 'progress', answered: seen.size, expected: nodes.length };
    if (finished) {
      yield {
        type: 'done',
        meta: await getRunMeta(conn.db, conn.runsTable, runId),
        execution: { status: execution.status ?? 'UNKNOWN', error: execution.error, cause: execution.cause },
      };
      return;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
