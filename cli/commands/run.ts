/**
 * `drover run`: start the run state machine and stream every host's outcome as it lands.
 */
import { userInfo, hostname } from 'node:os';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { newRunId } from '#shared/ids.ts';
import { describeLambdaCause } from '#shared/lambda-errors.ts';
import type { NodeRunItem } from '#shared/runs-table.ts';
import { CliError } from '../errors.ts';
import { buildRunRequest, type RunFlags } from '../run-request.ts';
import { connectStack } from '../stack.ts';
import { watchRun } from '../run-watcher.ts';
import { hostBlock, summaryText } from '../output/text.ts';
import { runJson } from '../output/json.ts';

export interface RunCommandOptions extends RunFlags {
  json?: boolean;
  stage?: string;
  home: string;
  color: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Who started the run, recorded with it. */
export function callerName(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `unknown@${hostname()}`;
  }
}

/** Runs a command across the matching hosts; resolves with the documented exit code. */
export async function runCommand(command: string, options: RunCommandOptions): Promise<number> {
  if (command.trim() === '') throw new CliError('the command is empty: give one, e.g. drover run "uptime"');
  const runId = newRunId();
  const request = buildRunRequest(runId, command, options, callerName());
  const conn = connectStack(options.home, options.stage);
  const started = Date.now();
  try {
    let executionArn: string;
    try {
      const out = await conn.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: conn.runStateMachineArn,
          name: runId,
          input: JSON.stringify(request),
        }),
      );
      executionArn = out.executionArn!;
    } catch (error: unknown) {
      throw new CliError(
        `could not start the run on stage ${conn.stage}: ${error instanceof Error ? error.message : error} (is the stack running? \`npm start\`)`,
        4,
        { cause: error },
      );
    }
    const style = { color: options.color };
    const nodes: NodeRunItem[] = [];
    for await (const event of watchRun(conn, runId, executionArn)) {
      if (event.type === 'host') {
        nodes.push(event.node);
        const block = options.json ? undefined : hostBlock(event.node, style);
        if (block) options.out(block + '\n');
      } else if (event.type === 'done') {
        const elapsed = Date.now() - started;
        const summary = event.meta?.summary;
        const failure =
          event.execution.status === 'SUCCEEDED'
            ? undefined
            : event.execution.error === 'InvalidRunRequest'
              ? describeLambdaCause(event.execution.cause)
              : `${event.execution.error ?? event.execution.status}: ${describeLambdaCause(event.execution.cause)}`;
        if (options.json) {
          options.out(JSON.stringify(runJson(runId, event.meta, nodes, elapsed, failure), null, 2) + '\n');
        } else if (summary) {
          if (summary.expected === 0) options.err('No hosts matched the filter.\n');
          else options.out(summaryText(summary, nodes, elapsed, style));
        }
        if (failure && !summary) throw new CliError(`run ${runId} was refused: ${failure}`);
        if (failure) options.err(`run ${runId} ended with an error: ${failure}\n`);
        return summary?.exitCode ?? 4;
      }
    }
    throw new CliError(`lost track of run ${runId}`);
  } finally {
    conn.close();
  }
}
