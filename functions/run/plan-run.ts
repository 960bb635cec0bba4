/**
 * Plan: validate the request, resolve its targets, split them into batches and write the run
 * record. Everything later in the run reads the targets from the runs table.
 */
import {
  describeZodError,
  resolveHostCount,
  runInputSchema,
  runRequestSchema,
  type CallerProof,
  type RunRequest,
} from '#shared/messages.ts';
import { RunExists } from '#shared/run-errors.ts';
import { FilterSyntaxError } from '#shared/filter/index.ts';
import { discoverHosts, selectHosts, type HostQuery } from '#shared/discovery.ts';
import { ackWindowSec } from '#shared/request-expiry.ts';
import { META_SK, type NodeItem, type RunMetaItem } from '#shared/runs-table.ts';
import {
  DISPATCH_GROUP_SIZE,
  InvalidRunRequest,
  planInputSchema,
  RESULT_GRACE_SEC,
  type RunState,
} from './state.ts';
import { MAX_BATCHES } from './history-budget.ts';
import { checkRunShape, groupCount, groupIndices } from './dispatch-groups.ts';
import { planBatch, planItems } from './batch-plan.ts';
import { checkLedgerFit } from './ledger-fit.ts';
import type { RunStore } from '#shared/stores/runs-store.ts';
import type { NodesStore } from '#shared/stores/nodes-store.ts';
import type { ScheduleLock } from '#shared/stores/schedule-lock.ts';

export interface PlanDeps {
  runs: RunStore;
  nodes: NodesStore;
  now: () => number;
  retentionDays: number;
  /** Random source in [0, 1) for `limit`; seeded in tests. */
  random?: () => number;
  /** Needed by runs a schedule started without `allowOverlap`. */
  scheduleLock?: ScheduleLock;
  /** Sends a run's caller proof to STS and returns the ARN that signed it (caller-proof.ts). */
  verifyCaller?: (proof: CallerProof, runId: string) => Promise<string>;
  /** Hosts per dispatch group (dispatch-groups.ts); DISPATCH_GROUP_SIZE when not set. */
  groupSize?: number;
}

/** Beyond its waits and sleeps, what a run may take (Lambda steps, their retries). */
const RUN_SLACK_MS = 15 * 60_000;

/**
 * Takes the schedule's lock for a scheduled run that must not overlap its previous one; false
 * when that one is still going. The lock lasts at most as long as this run can.
 */
async function takeScheduleTurn(
  request: RunRequest,
  batches: number,
  startedAt: number,
  deps: PlanDeps,
): Promise<boolean> {
  if (!request.schedule || request.schedule.allowOverlap) return true;
  if (!deps.scheduleLock) throw new Error('a scheduled run needs the schedule lock');
  const { discoveryTimeoutSec, timeoutSec, batchSleepSec } = request.options;
  const perBatchSec = discoveryTimeoutSec + timeoutSec + RESULT_GRACE_SEC + batchSleepSec;
  const until = startedAt + batches * perBatchSec * 1000 + RUN_SLACK_MS;
  return deps.scheduleLock.acquire(request.schedule.name, request.runId, startedAt, until);
}

/** Parses and validates the state machine input; throws InvalidRunRequest naming the problem. */
export function parseRunRequest(input: unknown): RunRequest {
  const parsed = runRequestSchema.safeParse(input);
  if (!parsed.success) throw new InvalidRunRequest(`invalid run request: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/**
 * The request of a run state machine execution, with its run id: the execution's name. An input
 * naming another `runId` is refused, so one run cannot be started under another's id.
 */
export function parsePlanInput(input: unknown): { request: RunRequest; executionStart: string } {
  const outer = planInputSchema.safeParse(input);
  if (!outer.success) {
    throw new InvalidRunRequest(`invalid plan input (state machine): ${describeZodError(outer.error)}`);
  }
  const { name, startTime } = outer.data.execution;
  const parsed = runInputSchema.safeParse(outer.data.request);
  if (!parsed.success) throw new InvalidRunRequest(`invalid run request: ${describeZodError(parsed.error)}`);
  if (parsed.data.runId !== undefined && parsed.data.runId !== name) {
    throw new InvalidRunRequest(
      `invalid run request: runId "${parsed.data.runId}" is not this execution's name "${name}": ` +
        `a run's id is its execution's name; leave runId out of the input, or name the execution after it`,
    );
  }
  return { request: { ...parsed.data, runId: name }, executionStart: startTime };
}

/** The discovery question a run request asks. */
function hostQuery(request: RunRequest): HostQuery {
  const { nodes, ordinal, staleAfterHeartbeats } = request.options;
  return { filter: request.filter, nodes, ordinal, staleAfterHeartbeats };
}

/** A discovery whose filter does not parse is an invalid request (naming the problem). */
function asRequestError(error: unknown): unknown {
  return error instanceof FilterSyntaxError ? new InvalidRunRequest(error.message, { cause: error }) : error;
}

/** Nodes that match the request's filter (or explicit list) and heartbeated recently enough. */
export function selectTargets(request: RunRequest, nodes: readonly NodeItem[], now: number): NodeItem[] {
  try {
    return selectHosts(nodes, hostQuery(request), now);
  } catch (error: unknown) {
    throw asRequestError(error);
  }
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
 * over every node, holding only the targets (slimmed) instead of the whole fleet's facts.
 */
export async function discoverTargets(
  request: RunRequest,
  nodes: NodesStore,
  now: number,
): Promise<NodeItem[]> {
  return discoverHosts(nodes, hostQuery(request), now, slimTarget).catch((error: unknown) => {
    throw asRequestError(error);
  });
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
 * Throws InvalidRunRequest when `sizes` are more batches (or groups) than one execution's history
 * holds (dispatch-groups.ts).
 */
export function checkBatchCount(sizes: readonly number[], groupSize = DISPATCH_GROUP_SIZE): void {
  checkRunShape(sizes, groupSize);
}

export { MAX_BATCHES };

/** The node ids of each batch, cut from the targets by `sizes`. */
function batchIds(targets: readonly NodeItem[], sizes: readonly number[]): string[][] {
  let offset = 0;
  return sizes.map((size) => targets.slice(offset, (offset += size)).map((node) => node.nodeId));
}

/** Sizes of consecutive batches for `count` hosts; one batch when `batchSize` is not set. */
export function batchSizes(count: number, batchSize: number | undefined): number[] {
  if (count === 0) return [];
  const size = batchSize ?? count;
  const sizes: number[] = [];
  for (let left = count; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

function runExists(runId: string): RunExists {
  return new RunExists(
    `run ${runId} exists already (another execution of that name): it was not touched; start the run under a new name`,
  );
}

/** Records a fire skipped for overlap: no targets, nothing sent; Finish tells the bus. */
async function planSkipped(meta: RunMetaItem, deps: PlanDeps): Promise<RunState> {
  const recorded = await deps.runs.putMeta({ ...meta, status: 'skipped', expected: 0, batchCount: 0 });
  if (!recorded) throw runExists(meta.runId);
  return {
    runId: meta.runId,
    batch: 0,
    batchCount: 0,
    batchSleepSec: 0,
    timeouts: { ackSec: 1, resultSec: 1 },
    more: false,
    groups: [],
  };
}

/** Plans a run: writes meta, batch and node items, and returns the first state of the loop. */
export async function planRun(input: unknown, deps: PlanDeps): Promise<RunState> {
  const { request, executionStart } = parsePlanInput(input);
  try {
    return await planRequest(request, executionStart, deps);
  } catch (error: unknown) {
    if (request.schedule && error instanceof InvalidRunRequest) {
      await recordRefused(request, executionStart, deps);
    }
    throw error;
  }
}

/**
 * A scheduled run Plan refuses (a filter edited outside drover, more batches than a run can go
 * through) still gets its record, so Finish can mark it invalid and emit `Run Failed` with the
 * schedule's name: nobody is watching a scheduled run but the bus.
 */
async function recordRefused(request: RunRequest, executionStart: string, deps: PlanDeps): Promise<void> {
  // Already recorded (a retried Plan of this execution): Finish finds it all the same.
  await deps.runs.putMeta(runMeta(request, executionStart, deps.now(), deps.retentionDays));
}

/** The run's record as Plan first writes it: no targets yet (`expected` and batches are 0). */
function runMeta(
  request: RunRequest,
  executionStart: string,
  now: number,
  retentionDays: number,
): RunMetaItem {
  return {
    runId: request.runId,
    sk: META_SK,
    status: 'running',
    action: request.action,
    command: request.command,
    filter: request.filter,
    options: request.options,
    caller: request.caller,
    ...(request.schedule ? { schedule: request.schedule.name } : {}),
    createdAt: now,
    startedAt: now,
    expected: 0,
    batchCount: 0,
    executionStart,
    expiresAt: Math.floor(now / 1000) + retentionDays * 86_400,
  };
}

async function planRequest(request: RunRequest, executionStart: string, deps: PlanDeps): Promise<RunState> {
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
  const groupSize = deps.groupSize ?? DISPATCH_GROUP_SIZE;
  checkRunShape(sizes, groupSize, request.options.batchSleepSec > 0);
  checkLedgerFit(batchIds(targets, sizes), groupSize);
  const expiresAt = Math.floor(startedAt / 1000) + deps.retentionDays * 86_400;
  const { runId } = request;
  const turn = await takeScheduleTurn(request, sizes.length, startedAt, deps);
  const callerArn = await provenCaller(request, deps);

  const meta: RunMetaItem = {
    ...runMeta(request, executionStart, startedAt, deps.retentionDays),
    ...(callerArn !== undefined ? { callerArn } : {}),
    expected: targets.length,
    batchCount: sizes.length,
  };
  if (!turn) return planSkipped(meta, deps);
  if (!(await deps.runs.putMeta(meta))) throw runExists(runId);

  let offset = 0;
  const items: Record<string, unknown>[] = [];
  for (const [batch, size] of sizes.entries()) {
    const batchTargets = targets.slice(offset, offset + size);
    items.push(...planItems(planBatch(runId, batch, batchTargets, groupSize, expiresAt)));
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
      ackSec: ackWindowSec(request.options),
      resultSec: request.options.timeoutSec + RESULT_GRACE_SEC,
    },
    more: sizes.length > 0,
    groups: groupIndices(sizes.length > 0 ? groupCount(sizes[0]!, groupSize) : 0),
  };
}

/**
 * The ARN STS vouches for when the request carries a caller proof; a proof that fails makes the
 * request invalid (someone claimed an identity they could not prove).
 */
async function provenCaller(request: RunRequest, deps: PlanDeps): Promise<string | undefined> {
  if (request.callerProof === undefined || deps.verifyCaller === undefined) return undefined;
  try {
    return await deps.verifyCaller(request.callerProof, request.runId);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidRunRequest(`caller not proven: ${reason}`, { cause: error });
  }
}
