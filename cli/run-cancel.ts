/**
 * Asking the control plane to cancel a run: one execution of the `cancel` state machine, which
 * marks the run cancelled, tells its hosts to stop the command (their agents kill its process
 * group) and gives up on hosts that never acknowledged. The run then finishes by itself.
 */
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describeLambdaCause } from '#shared/lambda-errors.ts';
import { CANCEL_OUTCOMES, RUN_ERRORS } from '#shared/run-errors.ts';
import type { RunStatus } from '#shared/runs-table.ts';
import { CliError } from './errors.ts';
import { plural } from './output/format.ts';
import type { ConnectedStack } from './stack.ts';

export interface CancelOutcome {
  runId: string;
  /** `cancelled`, or the status the run had already finished with. */
  status: RunStatus;
  /** Hosts told to stop a command they were running. */
  stopping: number;
  /** Hosts given up on before they acknowledged. */
  abandoned: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the cancel and waits for its (short) execution to end. */
export async function requestCancel(
  conn: ConnectedStack,
  runId: string,
  caller: string,
  timeoutMs = 30_000,
): Promise<CancelOutcome> {
  if (!conn.cancelStateMachineArn) {
    throw new CliError(
      `stage ${conn.stage} has no cancel state machine: ${conn.local ? 'restart the local stack (`npm start`)' : 'redeploy it'} with this version of drover`,
    );
  }
  const { executionArn } = await conn.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: conn.cancelStateMachineArn,
      // Execution names stop at 80 characters; a run id may be 80 itself (any execution name).
      name: `cancel-${Date.now()}-${runId}`.slice(0, 80),
      input: JSON.stringify({ runId, caller }),
    }),
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await conn.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status === 'SUCCEEDED') return JSON.parse(execution.output ?? '{}') as CancelOutcome;
    if (execution.status !== 'RUNNING') {
      const cause = describeLambdaCause(execution.cause);
      if (execution.error === RUN_ERRORS.notFound) {
        throw new CliError(`no run ${runId} on stage ${conn.stage} (drover runs lists recent runs)`);
      }
      throw new CliError(
        `the cancel of run ${runId} failed: ${execution.error ?? execution.status}: ${cause}`,
      );
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `the cancel of run ${runId} did not finish within ${timeoutMs / 1000} s (execution ${executionArn})`,
      );
    }
    await sleep(100);
  }
}

/** One line saying what the cancel did. */
export function describeCancel(outcome: CancelOutcome): string {
  if (outcome.status !== CANCEL_OUTCOMES.cancelled) {
    return `Run ${outcome.runId} had already finished (${outcome.status}): nothing to cancel.`;
  }
  return (
    `Cancelled run ${outcome.runId}: ${plural(outcome.stopping, 'host')} told to stop the command, ` +
    `${plural(outcome.abandoned, 'host')} given up on before acknowledging.`
  );
}
