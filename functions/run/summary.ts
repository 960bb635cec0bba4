/**
 * The summary of a finished run, from its node items: counts by status, exit codes, durations,
 * and the exit code the CLI documents.
 */
import type { NodeRunItem, RunSummary } from '#shared/runs-table.ts';
import { EXIT } from '#shared/exit-codes.ts';

export { EXIT };

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(nodes: readonly NodeRunItem[], stoppedEarly?: string): RunSummary {
  const count = (status: NodeRunItem['status']) => nodes.filter((n) => n.status === status).length;
  const exitCodes: Record<string, number> = {};
  const durations: number[] = [];
  for (const node of nodes) {
    if (typeof node.exitCode === 'number') {
      exitCodes[String(node.exitCode)] = (exitCodes[String(node.exitCode)] ?? 0) + 1;
    }
    if (node.startedAt !== undefined && node.endedAt !== undefined)
      durations.push(node.endedAt - node.startedAt);
  }
  durations.sort((a, b) => a - b);
  const summary: RunSummary = {
    expected: nodes.length,
    discovered: nodes.filter((n) => n.ackedAt !== undefined || n.resultAt !== undefined).length,
    succeeded: count('succeeded'),
    failed: count('failed'),
    timedOut: count('timed_out'),
    noResponse: count('no_response'),
    rejected: count('rejected'),
    unreachable: count('unreachable'),
    skipped: count('skipped'),
    cancelled: count('cancelled'),
    late: count('late'),
    exitCodes,
    durationMs:
      durations.length > 0
        ? { p50: percentile(durations, 50), p95: percentile(durations, 95), max: durations.at(-1)! }
        : null,
    exitCode: EXIT.ok,
    ...(stoppedEarly ? { stoppedEarly } : {}),
  };
  summary.exitCode = runExitCode(summary);
  return summary;
}

/** 1 nothing matched; 4 rejected; 3 hosts silent or timed out; 2 a command failed; else 0. */
export function runExitCode(s: Omit<RunSummary, 'exitCode'>): number {
  if (s.expected === 0) return EXIT.noMatch;
  if (s.rejected > 0) return EXIT.invalid;
  if (s.noResponse + s.timedOut + s.unreachable + s.late + s.skipped + s.cancelled > 0)
    return EXIT.noResponse;
  if (s.failed > 0) return EXIT.commandFailed;
  return EXIT.ok;
}
