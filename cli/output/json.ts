/**
 * The `--json` document of a run: every host with its outcome and output, and the summary.
 * The schema is documented in docs/cli.md; nothing else is written to stdout with --json.
 */
import type { NodeRunItem, RunMetaItem, RunSummary } from '#shared/runs-table.ts';

export interface HostJson {
  identity: string;
  nodeId: string;
  status: NodeRunItem['status'];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stdoutBytes: number;
  stderrBytes: number;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  startedAt: number | null;
  endedAt: number | null;
  durationMs: number | null;
  reason?: string;
  error?: string;
}

export interface RunJson {
  runId: string;
  status: string;
  command: unknown;
  filter: unknown;
  caller: string;
  startedAt: number | null;
  finishedAt: number | null;
  elapsedMs: number;
  hosts: HostJson[];
  summary: RunSummary | null;
  error?: string;
}

export function hostJson(node: NodeRunItem): HostJson {
  const duration =
    node.startedAt !== undefined && node.endedAt !== undefined ? node.endedAt - node.startedAt : null;
  return {
    identity: node.identity,
    nodeId: node.nodeId,
    status: node.status,
    exitCode: node.exitCode ?? null,
    signal: node.signal ?? null,
    timedOut: node.timedOut ?? false,
    stdout: node.stdout?.text ?? '',
    stderr: node.stderr?.text ?? '',
    stdoutBytes: node.stdout?.bytes ?? 0,
    stderrBytes: node.stderr?.bytes ?? 0,
    stdoutTruncated: node.stdout?.truncated ?? false,
    stderrTruncated: node.stderr?.truncated ?? false,
    startedAt: node.startedAt ?? null,
    endedAt: node.endedAt ?? null,
    durationMs: duration,
    ...(node.reason !== undefined ? { reason: node.reason } : {}),
    ...(node.error !== undefined ? { error: node.error } : {}),
  };
}

export function runJson(
  runId: string,
  meta: RunMetaItem | undefined,
  nodes: readonly NodeRunItem[],
  elapsedMs: number,
  error?: string,
): RunJson {
  return {
    runId,
    status: meta?.status ?? 'invalid',
    command: meta?.command ?? null,
    filter: meta?.filter ?? null,
    caller: meta?.caller ?? '',
    startedAt: meta?.startedAt ?? null,
    finishedAt: meta?.finishedAt ?? null,
    elapsedMs,
    hosts: [...nodes].sort((a, b) => a.identity.localeCompare(b.identity)).map(hostJson),
    summary: meta?.summary ?? null,
    ...(error ? { error } : {}),
  };
}
