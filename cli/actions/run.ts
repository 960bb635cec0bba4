/**
 * `drover run`: start the run state machine and stream every host's outcome as it lands.
 */
import { newRunId } from '#shared/ids.ts';
import { CliError } from '../errors.ts';
import { EXIT, callerName, type CommandContext } from '../context.ts';
import { buildRunRequest, type RunFlags } from '../run-request.ts';
import { readNodeList } from '../node-list.ts';
import { withStack } from '../stack.ts';
import { followRun, startRun } from '../run-session.ts';
import { RunReport } from '../run-report.ts';
import { CANCEL_WAIT_MS, outputFormat, progressFor, type OutputFlags } from '../output/printer-choice.ts';

export interface RunCommandFlags extends Omit<RunFlags, 'nodes'>, OutputFlags {
  /** `--nodes FILE|-`. */
  nodes?: string;
  async?: boolean;
}

/** Runs a command across the matching hosts; resolves with the documented exit code. */
export async function runCommand(
  command: string,
  flags: RunCommandFlags,
  ctx: CommandContext,
): Promise<number> {
  const { io } = ctx;
  if (command.trim() === '') throw new CliError('the command is empty: give one, e.g. drover run "uptime"');
  let nodes: string[] | undefined;
  if (flags.nodes !== undefined) {
    const list = await readNodeList(flags.nodes);
    if (list.names.length === 0) {
      io.err(`${list.source}: no hosts in the list; nothing to do.\n`);
      return EXIT.noMatch;
    }
    nodes = list.names;
  }
  const caller = callerName();
  const runId = newRunId();
  const request = buildRunRequest(runId, command, { ...flags, nodes }, caller);
  const format = outputFormat(flags);
  return withStack(ctx.stack, async (conn) => {
    const executionArn = await startRun(conn, request);
    if (flags.async) {
      if (format === 'text') {
        io.out(`${runId}\n`);
        io.err(`Started run ${runId} on stage ${conn.stage}; drover show ${runId} prints its results.\n`);
      } else {
        io.out(JSON.stringify({ runId, status: 'running', executionArn }) + '\n');
      }
      return EXIT.ok;
    }
    const report = new RunReport(runId, io, {
      format,
      display: flags.display ?? 'all',
      progress: progressFor(io, flags),
    });
    const started = Date.now();
    const outcome = await followRun(conn, io, runId, executionArn, report, {
      cancelOnInterrupt: { caller, waitMs: CANCEL_WAIT_MS },
    });
    if (!outcome.finished) {
      report.close();
      return EXIT.interrupted;
    }
    const code = report.finish(outcome.meta, outcome.execution, Date.now() - started);
    return outcome.interrupted ? EXIT.interrupted : code;
  });
}
