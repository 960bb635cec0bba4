/**
 * `drover cancel <runId>`: stop a running run. Its hosts are told to stop the command (their
 * agents kill its process group), hosts that never acknowledged are given up on, and the run
 * finishes with status `cancelled`; this command waits for that (bounded) and says what happened.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { RunReader } from '#shared/stores/runs-reads.ts';
import type { RunMetaItem } from '#shared/runs-table.ts';
import { CliError } from '../errors.ts';
import { EXIT, callerName, type CommandContext } from '../context.ts';
import { describeCancel, requestCancel } from '../run-cancel.ts';
import { executionArnOf, withStack, type ConnectedStack } from '../stack.ts';
import { plural } from '../output/format.ts';
import type { CancelJson } from '../output/schemas.ts';
import { checkRunId } from '../run-id.ts';
import { normalizeRunId } from '#shared/ids.ts';

export interface CancelFlags {
  json?: boolean;
  /** Seconds to wait for the run to finish after the cancel; 0 = do not wait. */
  wait: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the run's execution has ended (or the deadline); the run's final record. */
async function awaitRunEnd(
  conn: ConnectedStack,
  runId: string,
  waitMs: number,
): Promise<RunMetaItem | undefined> {
  const executionArn = executionArnOf(conn.runStateMachineArn, runId);
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const execution = await conn.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') break;
    await sleep(200);
  }
  return new RunReader(conn.db, conn.runsTable).getMeta(runId);
}

/** `2 cancelled, 1 succeeded`. */
export function describeCounts(meta: RunMetaItem): string {
  const s = meta.summary;
  if (!s) return plural(meta.expected, 'host');
  const counts: [number, string][] = [
    [s.cancelled, 'cancelled'],
    [s.succeeded, 'succeeded'],
    [s.failed, 'failed'],
    [s.timedOut, 'timed out'],
    [s.noResponse, 'no response'],
    [s.rejected, 'rejected'],
    [s.unreachable, 'unreachable'],
    [s.skipped, 'skipped'],
    [s.late, 'late'],
  ];
  return counts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}`)
    .join(', ');
}

export async function cancelCommand(runId: string, flags: CancelFlags, ctx: CommandContext): Promise<number> {
  checkRunId(runId);
  const id = normalizeRunId(runId);
  const { io } = ctx;
  return withStack(ctx.stack, async (conn) => {
    const before = await new RunReader(conn.db, conn.runsTable).getMeta(id);
    if (!before) throw new CliError(`no run ${id} on stage ${conn.stage} (drover runs lists recent runs)`);
    const outcome =
      before.status === 'running'
        ? await requestCancel(conn, id, callerName())
        : { runId: id, status: before.status, stopping: 0, abandoned: 0 };
    const cancelled = outcome.status === 'cancelled' && before.status === 'running';
    if (!flags.json) io.out(describeCancel(outcome) + '\n');
    const after = cancelled && flags.wait > 0 ? await awaitRunEnd(conn, id, flags.wait * 1000) : before;
    const finalStatus = after?.status ?? outcome.status;
    if (flags.json) {
      const doc: CancelJson = {
        runId: id,
        status: before.status === 'running' ? outcome.status : before.status,
        stopping: outcome.stopping,
        abandoned: outcome.abandoned,
        finalStatus,
        summary: after?.summary ?? null,
      };
      io.out(JSON.stringify(doc, null, 2) + '\n');
    } else if (cancelled && after && after.status !== 'running') {
      io.out(`Run ${id} ended ${after.status}: ${describeCounts(after)}.\n`);
    } else if (cancelled && flags.wait > 0) {
      io.out(`Run ${id} is still finishing; drover show ${id} prints the outcome.\n`);
    }
    return cancelled ? EXIT.ok : EXIT.noMatch;
  });
}
