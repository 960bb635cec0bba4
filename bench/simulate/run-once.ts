/**
 * Starts one `true` run on every simulated host, follows it to its end, and reads what it left:
 * the run record, its first batch, and the execution history the local Step Functions recorded
 * (in AWS's shape, so its length is the count that meets the 25,000-event quota).
 */
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { newRunId } from '#shared/ids.ts';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { batchSk, type RunMetaItem } from '#shared/runs-table.ts';
import { buildRunRequest } from '../../cli/run-request.ts';
import type { SimulationEnvironment } from './environment.ts';
import type { SimulationInput } from './figures.ts';

const TIMEOUT_MS = 30 * 60_000;

export interface RunOutcome {
  meta: RunMetaItem;
  batch: SimulationInput['batch'];
  execution: SimulationInput['execution'];
  history: SimulationInput['history'];
  wallMs: number;
}

/** Event types of the execution's history, counted. */
async function historyOf(env: SimulationEnvironment, executionArn: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let nextToken: string | undefined;
  do {
    const page = await env.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    for (const event of page.events ?? []) counts[event.type!] = (counts[event.type!] ?? 0) + 1;
    nextToken = page.nextToken;
  } while (nextToken);
  return counts;
}

/** Runs `action`, naming `what` in its error: a failure at 10,000 hosts says which call it was. */
async function step<T>(what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error: unknown) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`${what}: ${reason}`, { cause: error });
  }
}

/** Consecutive failed polls of the execution the watcher lives through (a busy machine's timeouts). */
export const POLL_FAILURES_TOLERATED = 20;

/**
 * Polls the execution until it has ended. A poll that fails is logged and tried again: on a
 * loaded machine one DescribeExecution can miss the SDK's 3 s connection timeout while the run goes
 * on, and a 10,000-host run must not be lost to it; a run of failures, or the deadline, ends it.
 */
export async function followExecution(
  env: Pick<SimulationEnvironment, 'sfn'>,
  executionArn: string,
  deadline: number,
  log: (text: string) => void,
  intervalMs = 250,
): Promise<DescribeExecutionCommandOutput> {
  let failures = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, intervalMs));
    try {
      const execution = await env.sfn.send(new DescribeExecutionCommand({ executionArn }));
      failures = 0;
      if (execution.status !== 'RUNNING') return execution;
    } catch (error: unknown) {
      failures += 1;
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`following the execution (DescribeExecution), failure ${failures}: ${reason}`);
      if (failures >= POLL_FAILURES_TOLERATED) {
        throw new Error(`following the execution (DescribeExecution): ${reason}`, { cause: error });
      }
    }
    if (Date.now() > deadline) throw new Error(`${executionArn} did not finish in 30 minutes`);
  }
}

export async function runOnce(env: SimulationEnvironment, hosts: number, log: (text: string) => void) {
  const { file } = env.stack;
  const runId = newRunId();
  // One batch of every host, as `drover run` sends without --batch: answers are counted per
  // dispatch group (tally items), so a batch's size is no longer bound by one item's 400 KB.
  const request = buildRunRequest(runId, 'true', { timeout: 600, dt: 300 }, 'simulate');
  log(`run ${runId} on ${hosts} simulated hosts…`);
  const wallStart = Date.now();
  const { executionArn } = await env.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: file.stateMachines.run,
      name: runId,
      input: JSON.stringify(request),
    }),
  );
  const execution = await followExecution(env, executionArn!, wallStart + TIMEOUT_MS, log);
  const wallMs = Date.now() - wallStart;
  const meta = await step('reading the run record', () =>
    new RunReader(env.direct.db, file.runsTable).getMeta(runId),
  );
  if (!meta) throw new Error(`run ${runId} left no record (${execution.status}: ${execution.cause ?? ''})`);
  const first = await env.direct.db.send(
    new GetCommand({ TableName: file.runsTable, Key: { runId, sk: batchSk(0) } }),
  );
  const outcome: RunOutcome = {
    meta,
    batch: first.Item as SimulationInput['batch'],
    execution: {
      status: execution.status ?? 'UNKNOWN',
      input: execution.input ?? '',
      output: execution.output ?? '',
    },
    history: await step('reading the execution history', () => historyOf(env, executionArn!)),
    wallMs,
  };
  return outcome;
}
