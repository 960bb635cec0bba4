/**
 * One measured run on the embedded stack, as `drover run` does it (StartExecution, then watching
 * until the execution has ended), with the phases and host figures read from the run record; and
 * one whole `drover run` process. What each figure means: bench/README.md.
 */
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { newRunId } from '#shared/ids.ts';
import { isCompletedRun } from '#shared/run-errors.ts';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { batchSk, type BatchItem, type NodeRunItem, type RunMetaItem } from '#shared/runs-table.ts';
import { PROJECT_ROOT, type LocalStack } from '#local/stack.ts';
import type { DemoFleet } from '#local/demo-fleet.ts';
import { buildRunRequest, watchRun, type StackConnection } from '#cli/api.ts';
import type { BenchOptions } from './options.ts';
import { reapedChildrenCpu } from './machine.ts';
import type { CliSample, RunSample } from './report.ts';

/** The wait release times are written by the reply ledger but not (yet) declared in BatchItem. */
interface BatchTimes extends BatchItem {
  acksDoneAt?: number;
  resultsDoneAt?: number;
}

export interface Bench {
  stack: LocalStack;
  fleet: DemoFleet;
  conn: StackConnection;
}

/** `drover run --json COMMAND` as an operator types it: a new process, timed from spawn to exit. */
export function measureCliRun(home: string, options: BenchOptions): Promise<CliSample> {
  const cpuBefore = reapedChildrenCpu();
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [join(PROJECT_ROOT, 'bin', 'drover.js'), '--home', home, 'run', options.command, '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolveRun) => {
    child.once('close', (code) => {
      const wholeProcessMs = Math.round(performance.now() - startedAt);
      const cpuAfter = reapedChildrenCpu();
      const cpuMs =
        cpuBefore === null || cpuAfter === null ? null : Math.round((cpuAfter - cpuBefore) * 1000);
      let succeeded: number | undefined;
      try {
        succeeded = (JSON.parse(stdout) as { summary?: { succeeded?: number } }).summary?.succeeded;
      } catch {
        // Not JSON: the problem below says what came out.
      }
      const ok = code === 0 && succeeded === options.agents;
      resolveRun({
        wholeProcessMs,
        cpuMs,
        ok,
        ...(ok
          ? {}
          : {
              problem: `exit ${code}, ${succeeded ?? 'no'} hosts succeeded: ${stderr.trim().split('\n')[0] ?? ''}`,
            }),
      });
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Seen {
  meta: RunMetaItem | undefined;
  status: string;
  failure?: string;
}

const failureOf = (e: { status?: string; error?: string; cause?: string }): string | undefined =>
  isCompletedRun(e) ? undefined : `${e.error ?? ''}: ${e.cause ?? ''}`;

/** Polls DescribeExecution until the execution has ended, then reads the run record once. */
async function watchThin(conn: StackConnection, runId: string, arn: string, pollMs: number): Promise<Seen> {
  for (;;) {
    const execution = await conn.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (execution.status !== 'RUNNING') {
      const meta = await new RunReader(conn.db, conn.runsTable).getMeta(runId);
      return { meta, status: execution.status ?? 'UNKNOWN', failure: failureOf(execution) };
    }
    await sleep(pollMs);
  }
}

/** `drover run`'s own watcher: also reads every host's outcome as it lands. */
async function watchCli(conn: StackConnection, runId: string, arn: string, pollMs: number): Promise<Seen> {
  for await (const event of watchRun(conn, runId, arn, { pollMs })) {
    if (event.type === 'done') {
      return { meta: event.meta, status: event.execution.status, failure: failureOf(event.execution) };
    }
  }
  throw new Error(`the watcher of run ${runId} stopped without reporting the end`);
}

export const span = (from: number | undefined, to: number | undefined): number | null =>
  from === undefined || to === undefined ? null : to - from;

function median(values: number[]): number | null {
  return values.length === 0 ? null : values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
}

function hostFigures(nodes: readonly NodeRunItem[], dispatchedAt: number | undefined) {
  const each = (f: (n: NodeRunItem) => number | null) => nodes.map(f).filter((v): v is number => v !== null);
  const acks = each((n) => n.ackedAt ?? null);
  const starts = each((n) => n.startedAt ?? null);
  return {
    firstAck: acks.length ? span(dispatchedAt, Math.min(...acks)) : null,
    lastAck: acks.length ? span(dispatchedAt, Math.max(...acks)) : null,
    lastStart: starts.length ? span(dispatchedAt, Math.max(...starts)) : null,
    command: median(each((n) => span(n.startedAt, n.endedAt))),
    resultLag: median(each((n) => span(n.endedAt, n.resultAt))),
  };
}

/** Why the run is not a clean success on every agent, or undefined. */
function problemOf(seen: Seen, nodes: readonly NodeRunItem[], agents: number): string | undefined {
  if (seen.failure) return `execution ${seen.status} ${seen.failure}`;
  if (!seen.meta?.summary) return 'the execution ended without a summary on the run record';
  const byStatus = new Map<string, number>();
  for (const node of nodes) byStatus.set(node.status, (byStatus.get(node.status) ?? 0) + 1);
  const succeeded = byStatus.get('succeeded') ?? 0;
  if (succeeded === agents && nodes.length === agents && seen.meta.summary.succeeded === agents) {
    return undefined;
  }
  const counts = [...byStatus].map(([status, n]) => `${status} ${n}`).join(', ');
  return `${succeeded}/${agents} succeeded (${nodes.length} targeted: ${counts || 'none'})`;
}

/** One run as `drover run` does it, timed from just before StartExecution until it is seen done. */
export async function measureRun({ conn }: Bench, options: BenchOptions): Promise<RunSample> {
  const runId = newRunId();
  const request = buildRunRequest(runId, options.command, {}, `drover-bench@${hostname()}`);
  const startedAt = Date.now();
  const { executionArn } = await conn.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: conn.runStateMachineArn,
      name: runId,
      input: JSON.stringify(request),
    }),
  );
  const watch = options.watcher === 'cli' ? watchCli : watchThin;
  const seen = await watch(conn, runId, executionArn!, options.pollMs);
  const seenAt = Date.now();

  // Reading the details and checking the outcome is not part of the measured time.
  const batch = (
    await conn.db.send(
      new GetCommand({ TableName: conn.runsTable, Key: { runId, sk: batchSk(0) }, ConsistentRead: true }),
    )
  ).Item as BatchTimes | undefined;
  const nodes = await new RunReader(conn.db, conn.runsTable).queryNodes(runId);
  const { meta } = seen;
  const problem = problemOf(seen, nodes, options.agents);
  return {
    runId,
    endToEndMs: seenAt - startedAt,
    phases: {
      start: span(startedAt, meta?.startedAt),
      plan: span(meta?.startedAt, meta?.plannedAt),
      dispatch: span(meta?.plannedAt, batch?.dispatchedAt),
      acks: span(batch?.dispatchedAt, batch?.acksDoneAt),
      results: span(batch?.acksDoneAt, batch?.resultsDoneAt),
      finish: span(batch?.resultsDoneAt, meta?.finishedAt),
      observe: span(meta?.finishedAt, seenAt),
    },
    hosts: hostFigures(nodes, batch?.dispatchedAt),
    ok: problem === undefined,
    ...(problem ? { problem } : {}),
  };
}
