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
      for (const node of full.sort((a, b) => (a.resultAt ?? 0) - (b.resultAt ?? 0))) {
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
