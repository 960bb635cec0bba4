/**
 * `drover ping`: a run whose action is `ping` (agents answer without running anything), printed
 * as each host's round-trip time, then statistics and a latency sparkline.
 */
import { newRunId } from '#shared/ids.ts';
import { EXIT, callerName, type CommandContext } from '../context.ts';
import { buildRunRequest, type FilterFlags } from '../run-request.ts';
import { withStack } from '../stack.ts';
import { followRun, startRun } from '../run-session.ts';
import { PingReport } from '../ping-report.ts';
import { CANCEL_WAIT_MS, progressFor } from '../output/printer-choice.ts';

/** Seconds an agent gets to answer a ping once it has it (the result wait is this + a grace). */
const PING_TIMEOUT_SEC = 5;

export interface PingFlags extends FilterFlags {
  dt?: number;
  json?: boolean;
  progress?: boolean;
}

export async function pingCommand(flags: PingFlags, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const caller = callerName();
  const runId = newRunId();
  const request = buildRunRequest(runId, undefined, { ...flags, timeout: PING_TIMEOUT_SEC }, caller, 'ping');
  return withStack(ctx.stack, async (conn) => {
    const executionArn = await startRun(conn, request);
    const report = new PingReport(runId, io, conn, {
      json: flags.json ?? false,
      progress: progressFor(io, flags),
    });
    const outcome = await followRun(conn, io, runId, executionArn, report, {
      cancelOnInterrupt: { caller, waitMs: CANCEL_WAIT_MS },
    });
    if (!outcome.finished) {
      report.close();
      return EXIT.interrupted;
    }
    const code = report.finish(outcome.meta, outcome.execution);
    return outcome.interrupted ? EXIT.interrupted : code;
  });
}
