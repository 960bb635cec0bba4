/**
 * `drover show <runId>`: prints a past run exactly as `drover run` printed it (text, --json or
 * --jsonl), or follows it to its end when it is still running. Exits with the run's exit code.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { normalizeRunId } from '#shared/ids.ts';
import type { RunMetaItem } from '#shared/runs-table.ts';
import { CliError } from '../errors.ts';
import { EXIT, type CommandContext } from '../context.ts';
import { executionArnOf, withStack, type ConnectedStack } from '../stack.ts';
import { followRun, type RunPrinter } from '../run-session.ts';
import { RunReport, executionFailure } from '../run-report.ts';
import { PingReport } from '../ping-report.ts';
import { byLanding, type ExecutionOutcome } from '../run-watcher.ts';
import { outputFormat, progressFor, type OutputFlags } from '../output/printer-choice.ts';
import { checkRunId } from '../run-id.ts';

async function describeExecution(conn: ConnectedStack, runId: string): Promise<ExecutionOutcome | undefined> {
  try {
    const out = await conn.sfn.send(
      new DescribeExecutionCommand({ executionArn: executionArnOf(conn.runStateMachineArn, runId) }),
    );
    return { status: out.status ?? 'UNKNOWN', error: out.error, cause: out.cause };
  } catch (error: unknown) {
    // Execution history is kept for 90 days in AWS, records for the retention period.
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

type Printer = RunPrinter & {
  close(): void;
  finish(meta: RunMetaItem | undefined, execution: ExecutionOutcome | undefined, elapsedMs: number): number;
};

export async function showCommand(runId: string, flags: OutputFlags, ctx: CommandContext): Promise<number> {
  checkRunId(runId);
  const id = normalizeRunId(runId);
  const { io } = ctx;
  return withStack(ctx.stack, async (conn) => {
    const meta = await new RunReader(conn.db, conn.runsTable).getMeta(id);
    if (!meta) {
      const execution = await describeExecution(conn, id);
      const failure = executionFailure(execution);
      if (failure) throw new CliError(`run ${id} was refused: ${failure}`);
      throw new CliError(`no run ${id} on stage ${conn.stage} (drover runs lists recent runs)`);
    }
    const progress = progressFor(io, flags);
    const printer: Printer =
      meta.action === 'ping'
        ? new PingReport(id, io, conn, { json: flags.json === true, progress })
        : new RunReport(id, io, { format: outputFormat(flags), display: flags.display ?? 'all', progress });
    if (meta.status === 'running') {
      const outcome = await followRun(conn, io, id, executionArnOf(conn.runStateMachineArn, id), printer);
      if (!outcome.finished) {
        printer.close();
        return EXIT.interrupted;
      }
      return printer.finish(outcome.meta, outcome.execution, 0);
    }
    const nodes = await new RunReader(conn.db, conn.runsTable).queryNodes(id, { withOutput: true });
    for (const node of nodes.sort(byLanding)) await printer.host(node);
    return printer.finish(meta, await describeExecution(conn, id), 0);
  });
}
