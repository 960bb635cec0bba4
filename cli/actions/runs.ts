/**
 * `drover runs`: recent runs, newest first. The run state machine's executions are listed
 * (ListExecutions is paged and newest first, so the cost is per page shown, not per run ever
 * made) and each run's record is read with BatchGetItem; runs whose record has expired are left out.
 */
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { describeFilter } from '#shared/filter/describe.ts';
import type { RunMetaItem } from '#shared/runs-table.ts';
import { EXIT, type CommandContext } from '../context.ts';
import { withStack, type ConnectedStack } from '../stack.ts';
import { ago, clip, columns } from '../output/format.ts';
import { visible } from '../output/visible.ts';
import type { RunsJson } from '../output/schemas.ts';
import { formatUsd, microUsd } from '../cost/run-cost.ts';
import { runRecordCost, runTotals, type TotalBy } from '../cost/run-totals.ts';

export interface RunsFlags {
  json?: boolean;
  limit: number;
  caller?: string;
  status?: string;
  /** Only runs started by this schedule. */
  schedule?: string;
  /** Sum the runs' estimated cost per caller, schedule or UTC day. */
  totalBy?: TotalBy;
}

/** Executions looked at before giving up on finding `limit` runs that pass the filters. */
const MAX_SCANNED = 2_000;

/** Recent runs passing the filters, newest first. */
export async function recentRuns(conn: ConnectedStack, flags: RunsFlags): Promise<RunMetaItem[]> {
  const runs: RunMetaItem[] = [];
  let nextToken: string | undefined;
  let scanned = 0;
  do {
    const page = await conn.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: conn.runStateMachineArn,
        maxResults: Math.min(100, Math.max(flags.limit, 20)),
        nextToken,
      }),
    );
    const names = (page.executions ?? []).map((e) => e.name ?? '').filter((name) => name !== '');
    scanned += names.length;
    const metas = await new RunReader(conn.db, conn.runsTable).getMetas(names);
    for (const name of names) {
      const meta = metas.get(name);
      if (!meta) continue;
      if (flags.caller !== undefined && meta.caller !== flags.caller) continue;
      if (flags.status !== undefined && meta.status !== flags.status) continue;
      if (flags.schedule !== undefined && meta.schedule !== flags.schedule) continue;
      runs.push(meta);
      if (runs.length >= flags.limit) return runs;
    }
    nextToken = page.nextToken;
  } while (nextToken && scanned < MAX_SCANNED);
  return runs;
}

/** `uptime`, `(ping)`. */
export function commandText(meta: Pick<RunMetaItem, 'action' | 'command'>): string {
  if (meta.action === 'ping') return '(ping)';
  if (!meta.command) return '-';
  return 'shell' in meta.command ? meta.command.shell : meta.command.argv.join(' ');
}

export function runsTable(runs: readonly RunMetaItem[], now: number): string {
  const rows = [
    ['RUN ID', 'WHEN', 'CALLER', 'STATUS', 'HOSTS', 'OK', 'FAILED', 'OTHER', 'COMMAND', 'FILTER'],
  ];
  for (const run of runs) {
    const s = run.summary;
    const failed = s ? s.failed + s.timedOut + s.rejected + s.unreachable : undefined;
    const other = s ? s.expected - s.succeeded - (failed ?? 0) : undefined;
    rows.push([
      run.runId,
      ago(now - run.createdAt),
      run.caller,
      run.status,
      String(run.expected),
      s ? String(s.succeeded) : '-',
      failed === undefined ? '-' : String(failed),
      other === undefined ? '-' : String(other),
      clip(commandText(run), 40),
      clip(describeFilter(run.filter), 40),
    ]);
  }
  return columns(rows) + '\n';
}

/** The `--total-by` table: one row per group, then the sum of all. */
export function totalsTable(runs: readonly RunMetaItem[], by: TotalBy): string {
  const totals = runTotals(runs, by);
  const rows = [[by.toUpperCase(), 'RUNS', 'HOSTS', 'EST. COST']];
  for (const t of totals) rows.push([t.key, String(t.runs), String(t.hosts), formatUsd(t.usd)]);
  const all = totals.reduce((sum, t) => sum + t.usd, 0);
  const hosts = totals.reduce((sum, t) => sum + t.hosts, 0);
  rows.push(['(all)', String(runs.length), String(hosts), formatUsd(all)]);
  return (
    columns(rows) +
    '\nEstimated AWS cost per run from its hosts, batches and duration (drover cost explains the model;\n' +
    'output assumed 1 KB per host). Only the runs listed (--limit) are counted.\n'
  );
}

export async function runsCommand(flags: RunsFlags, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  return withStack(ctx.stack, async (conn) => {
    const runs = await recentRuns(conn, flags);
    if (flags.json) {
      const doc: RunsJson = {
        runs: runs.map((r) => ({
          runId: r.runId,
          status: r.status,
          action: r.action,
          command: r.command ?? null,
          filter: r.filter,
          caller: r.caller,
          schedule: r.schedule ?? null,
          createdAt: r.createdAt,
          finishedAt: r.finishedAt ?? null,
          expected: r.expected,
          summary: r.summary ?? null,
          estimatedUsd: microUsd(runRecordCost(r)),
        })),
        ...(flags.totalBy
          ? {
              totalBy: flags.totalBy,
              totals: runTotals(runs, flags.totalBy).map((t) => ({ ...t, usd: microUsd(t.usd) })),
            }
          : {}),
      };
      io.out(JSON.stringify(doc, null, 2) + '\n');
    } else if (runs.length === 0) {
      io.err(
        `No runs on stage ${conn.stage}${flags.caller || flags.status || flags.schedule ? ' match' : ' yet'}.\n`,
      );
    } else if (flags.totalBy) {
      io.out(totalsTable(runs, flags.totalBy));
    } else {
      io.out(visible(runsTable(runs, Date.now()), 'lines'));
    }
    return runs.length > 0 ? EXIT.ok : EXIT.noMatch;
  });
}
