/**
 * The `--json` document and `--jsonl` lines of a run: every host with its outcome and output, and
 * the summary. Schemas in `schemas.ts`, documented in docs/cli.md; with --json or --jsonl nothing
 * else is written to stdout.
 */
import type { NodeRunItem, RunMetaItem } from '#shared/runs-table.ts';
import { compareNames } from '#shared/name-order.ts';
import { microUsd, type RunCost } from '../cost/run-cost.ts';
import type { HostJson, JsonlHostLine, JsonlSummaryLine, RunJson } from './schemas.ts';

export type { HostJson, RunJson } from './schemas.ts';

/**
 * The status the run's summary counted a host as: a reply recorded after Finish summarized the run
 * (`lateAfterSummary`) leaves the host `late` in the table, but the summary, and so the exit code,
 * counted it as what the run had given up on it as (`lateAs`), so the host list says the same.
 */
export function countedStatus(node: NodeRunItem): NodeRunItem['status'] {
  return node.status === 'late' && node.lateAfterSummary === true && node.lateAs !== undefined
    ? node.lateAs
    : node.status;
}

export function hostJson(node: NodeRunItem): HostJson {
  const duration =
    node.startedAt !== undefined && node.endedAt !== undefined ? node.endedAt - node.startedAt : null;
  return {
    identity: node.identity,
    nodeId: node.nodeId,
    status: countedStatus(node),
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
    ...(countedStatus(node) !== node.status ? { lateReply: true as const } : {}),
  };
}

/** What a run document says besides its hosts; `exitCode` is the CLI's exit code for the run. */
export interface RunDocExtras {
  exitCode?: number;
  /** `--nodes` names that were not addressed (unknown or stale hosts). */
  notFound?: readonly string[];
  error?: string;
  /** The run's estimated AWS cost (cli/cost/run-cost.ts). */
  cost?: RunCost;
}

/** The `estimatedCost` member of run and ping documents: micro-dollar rounding, null without a run record. */
export function costJson(cost: RunCost | undefined): RunJson['estimatedCost'] {
  if (!cost) return null;
  const byService = Object.fromEntries(Object.entries(cost.byService).map(([s, v]) => [s, microUsd(v)]));
  return { usd: microUsd(cost.usd), hosts: cost.hosts, byService, pricesAsOf: cost.pricesAsOf };
}

function runFields(
  runId: string,
  meta: RunMetaItem | undefined,
  elapsedMs: number,
  extras: RunDocExtras,
): Omit<RunJson, 'hosts'> {
  return {
    runId,
    status: meta?.status ?? 'invalid',
    action: meta?.action ?? 'exec',
    command: meta?.command ?? null,
    filter: meta?.filter ?? null,
    options: meta?.options ?? null,
    caller: meta?.caller ?? '',
    startedAt: meta?.startedAt ?? null,
    finishedAt: meta?.finishedAt ?? null,
    elapsedMs,
    summary: meta?.summary ?? null,
    exitCode: extras.exitCode ?? meta?.summary?.exitCode ?? 4,
    estimatedCost: costJson(extras.cost),
    ...(extras.notFound && extras.notFound.length > 0 ? { notFound: [...extras.notFound] } : {}),
    ...(extras.error ? { error: extras.error } : {}),
    ...(meta?.repliesQueuedAtClose ? { repliesQueuedAtClose: meta.repliesQueuedAtClose } : {}),
  };
}

export function runJson(
  runId: string,
  meta: RunMetaItem | undefined,
  nodes: readonly NodeRunItem[],
  elapsedMs: number,
  extras: RunDocExtras | string = {},
): RunJson {
  const more = typeof extras === 'string' ? { error: extras } : extras;
  const { summary, exitCode, estimatedCost, ...head } = runFields(runId, meta, elapsedMs, more);
  return {
    ...head,
    hosts: [...nodes].sort((a, b) => compareNames(a.identity, b.identity)).map(hostJson),
    summary,
    exitCode,
    estimatedCost,
  };
}

export function jsonlHostLine(runId: string, node: NodeRunItem): JsonlHostLine {
  return { type: 'host', runId, ...hostJson(node) };
}

export function jsonlSummaryLine(
  runId: string,
  meta: RunMetaItem | undefined,
  elapsedMs: number,
  extras: RunDocExtras = {},
): JsonlSummaryLine {
  return { type: 'summary', ...runFields(runId, meta, elapsedMs, extras) };
}
