/**
 * Plan: validate the request, resolve its targets, split them into batches and write the run
 * record. Everything later in the run reads the targets from the runs table.
 */
import { describeZodError, resolveHostCount, runRequestSchema, type RunRequest } from '#shared/messages.ts';
import { parseFilter, matchFilter, FilterSyntaxError } from '#shared/filter/index.ts';
import { isFresh } from '#shared/freshness.ts';
import { groupInJoinOrder, nthOfGroup } from '#shared/fleet-file/join-order.ts';
import { META_SK, batchSk, nodeSk, type NodeItem, type RunMetaItem } from '#shared/runs-table.ts';
import { InvalidRunRequest, RESULT_GRACE_SEC, type RunState } from './state.ts';
import type { RunStore } from './run-store.ts';
import type { NodeDirectory } from './node-directory.ts';

export interface PlanDeps {
  runs: RunStore;
  nodes: NodeDirectory;
  now: () => number;
  retentionDays: number;
  /** Random source in [0, 1) for `limit`; seeded in tests. */
  random?: () => number;
}

/** Parses and validates the state machine input; throws InvalidRunRequest naming the problem. */
export function parseRunRequest(input: unknown): RunRequest {
  const parsed = runRequestSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRunRequest(`invalid run request: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

function requestFilter(request: RunRequest): ReturnType<typeof parseFilter> {
  try {
    return parseFilter(request.filter);
  } catch (error: unknown) {
    if (error instanceof FilterSyntaxError) throw new InvalidRunRequest(error.message, { cause: error });
    throw error;
  }
}

/** Nodes that match the request's filter (or explicit list) and heartbeated recently enough. */
export function selectTargets(request: RunRequest, nodes: readonly NodeItem[], now: number): NodeItem[] {
  const filter = requestFilter(request);
  const wanted = request.options.nodes ? new Set(request.options.nodes) : undefined;
  const fresh = nodes.filter((node) => isFresh(node, now, request.options.staleAfterHeartbeats));
  return nthOfGroup(fresh, request.options.ordinal)
    .filter((node) => !wanted || wanted.has(node.identity) || wanted.has(node.nodeId))
    .filter((node) =>
      matchFilter(filter, { identity: node.identity, facts: node.facts, classes: node.classes }),
    )
    .sort((a, b) => a.identity.localeCompare(b.identity));
}

/** What the later steps need of a target: facts and classes are dropped once the filter matched. */
export function slimTarget(node: NodeItem): NodeItem {
  const { nodeId, identity, inbox, agentVersion, heartbeatSec, lastSeen, joinedAt, startedAt, expiresAt } =
    node;
  return {
    nodeId,
    identity,
    inbox,
    agentVersion,
    heartbeatSec,
    lastSeen,
    joinedAt,
    startedAt,
    expiresAt,
    facts: {},
    classes: [],
  };
}

/**
 * The run's targets, read page by page from the nodes table: the same choice as `selectTargets`
 * over every node, holding only the targets (slimmed) instead of the whole fleet's facts. With
 * `--ordinal` the group's fresh hosts are kept whole: the filter applies after the ordinal picks.
 */
export async function discoverTargets(
  request: RunRequest,
  nodes: NodeDirectory,
  now: number,
): Promise<NodeItem[]> {
  const filter = requestFilter(request);
  const { ordinal, staleAfterHeartbeats } = request.options;
  const wanted = request.options.nodes ? new Set(request.options.nodes) : undefined;
  const kept = await nodes.select((node) => {
    if (!isFresh(node, now, staleAfterHeartbeats)) return undefined;
    if (wanted && !wanted.has(node.identity) && !wanted.has(node.nodeId)) return undefined;
    if (ordinal) return groupInJoinOrder([node], ordinal.group).length > 0 ? node : undefined;
    const matched = matchFilter(filter, {
      identity: node.identity,
      facts: node.facts,
      classes: node.classes,
    });
    return matched ? slimTarget(node) : undefined;
  });
  if (ordinal) return selectTargets(request, kept, now);
  return kept.sort((a, b) => a.identity.localeCompare(b.identity));
}

/** A uniformly random subset of `limit` items, kept in their original order. */
export function limitTargets<T>(items: readonly T[], limit: number | undefined, random: () => number): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  const indices = items.map((_, i) => i);
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices
    .slice(0, limit)
    .sort((a, b) => a - b)
    .map((i) => items[i]!);
}

/** A deterministic random source in [0, 1) from a string seed (mulberry32 over a FNV-1a hash). */
export function seededRandom(seed: string): () => number {
  let state = 2166136261;
  for (let i = 0; i < seed.length; i++) state = Math.imul(state ^ seed.charCodeAt(i), 16777619);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Batches one run may have. The run state machine goes through them in one execution, whose
 * history Step Functions caps at 25,000 events (the execution fails beyond): a batch takes 26
 * (dispatch, the two waits, close, the choice, the sleep), and retries of a step add a few more.
 */
export const MAX_BATCHES = 800;

/** Throws InvalidRunRequest when `sizes` are more batches than a run can go through. */
export function checkBatchCount(sizes: readonly number[]): void {
  if (sizes.length <= MAX_BATCHES) return;
  const hosts = sizes.reduce((sum, size) => sum + size, 0);
  const smallest = Math.ceil(hosts / MAX_BATCHES);
  throw new InvalidRunRequest(
    `${hosts} hosts in batches of ${sizes[0]} make ${sizes.length} batches, more than the ${MAX_BATCHES} a run can go through ` +
      `(Step Functions keeps at most 25,000 events of an execution): use --batch ${smallest} or more, or split the run with filters`,
  );
}

/** Sizes of consecutive batches for `count` hosts; one batch when `batchSize` is not set. */
export function batchSizes(count: number, batchSize: number | undefined): number[] {
  if (count === 0) return [];
  const size = batchSize ?? count;
  const sizes: number[] = [];
  for (let left = count; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

/** Plans a run: writes meta, batch and node items, and returns the first state of the loop. */
export async function planRun(input: unknown, deps: PlanDeps): Promise<RunState> {
  const request = parseRunRequest(input);
  const startedAt = deps.now();
  const discovered = await discoverTargets(request, deps.nodes, startedAt);
  const { limit, limitSeed, batchSize } = request.options;
  const random = limitSeed !== undefined ? seededRandom(limitSeed) : (deps.random ?? Math.random);
  const targets = limitTargets(
    discovered,
    limit === undefined ? undefined : resolveHostCount(limit, discovered.length, 'up'),
    random,
  );
  const sizes = batchSizes(
    targets.length,
    batchSize === undefined ? undefined : Math.max(1, resolveHostCount(batchSize, targets.length, 'up')),
  );
  checkBatchCount(sizes);
  const expiresAt = Math.floor(startedAt / 1000) + deps.retentionDays * 86_400;
  const { runId } = request;

  const meta: RunMetaItem = {
    runId,
    sk: META_SK,
    status: 'running',
    action: request.action,
    command: request.command,
    filter: request.filter,
    options: request.options,
    caller: request.caller,
    createdAt: startedAt,
    startedAt,
    expected: targets.length,
    batchCount: sizes.length,
    expiresAt,
  };
  await deps.runs.putMeta(meta);

  let offset = 0;
  const items: Record<string, unknown>[] = [];
  for (const [batch, size] of sizes.entries()) {
    items.push({
      runId,
      sk: batchSk(batch),
      batch,
      expected: size,
      acked: 0,
      rejected: 0,
      done: 0,
      unreachable: 0,
      expiresAt,
    });
    for (const node of targets.slice(offset, offset + size)) {
      items.push({
        runId,
        sk: nodeSk(node.nodeId),
        nodeId: node.nodeId,
        identity: node.identity,
        batch,
        inbox: node.inbox,
        status: 'pending',
        expiresAt,
      });
    }
    offset += size;
  }
  await deps.runs.putMany(items);
  await deps.runs.updateMeta(runId, { plannedAt: deps.now() });

  return {
    runId,
    batch: 0,
    batchCount: sizes.length,
    batchSleepSec: request.options.batchSleepSec,
    timeouts: {
      ackSec: request.options.discoveryTimeoutSec,
      resultSec: request.options.timeoutSec + RESULT_GRACE_SEC,
    },
    more: sizes.length > 0,
  };
}
