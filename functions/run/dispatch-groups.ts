/**
 * Dispatch fan-out: Plan cuts each batch into groups of targets, writes one item per group, and
 * the run state machine's Map state invokes Dispatch once per group, so 50,000 sends do not queue
 * behind one function's sockets. What a run may be is bounded by Step Functions' history quota
 * (history-budget.ts): Plan refuses a shape that would not fit before writing anything.
 */
import { groupSk, type GroupItem } from '#shared/runs-table.ts';
import { InvalidRunRequest } from '#shared/run-errors.ts';
import { DISPATCH_GROUP_SIZE, MAX_GROUPS_PER_BATCH } from './state.ts';
import { HISTORY_BUDGET, MAX_BATCHES, runHistoryEvents } from './history-budget.ts';

/** The environment variable that lowers the group size (tests, or a fleet that wants more fan-out). */
export const GROUP_SIZE_ENV = 'DROVER_DISPATCH_GROUP_SIZE';

export class InvalidGroupSize extends Error {
  override readonly name = 'InvalidGroupSize';
}

/** The configured group size: `DROVER_DISPATCH_GROUP_SIZE` (1 to 500), else 500. */
export function dispatchGroupSize(env: Record<string, string | undefined> = process.env): number {
  const raw = env[GROUP_SIZE_ENV];
  if (raw === undefined || raw === '') return DISPATCH_GROUP_SIZE;
  const size = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || size < 1 || size > DISPATCH_GROUP_SIZE) {
    throw new InvalidGroupSize(
      `${GROUP_SIZE_ENV} is "${raw}": give a whole number of hosts from 1 to ${DISPATCH_GROUP_SIZE}, e.g. 100`,
    );
  }
  return size;
}

/**
 * Hosts per group in a batch of `batchSize`: the configured size, or larger when the batch would
 * otherwise have more than MAX_GROUPS_PER_BATCH groups.
 */
export function groupSizeFor(batchSize: number, configured: number): number {
  return Math.max(configured, Math.ceil(batchSize / MAX_GROUPS_PER_BATCH));
}

/** Groups of a batch of `batchSize` hosts. */
export function groupCount(batchSize: number, configured: number): number {
  return batchSize === 0 ? 0 : Math.ceil(batchSize / groupSizeFor(batchSize, configured));
}

/** The Map state's items for a batch of `count` groups: their indices. */
export const groupIndices = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** The group items of one batch, its targets cut in order. */
export function groupItems(
  runId: string,
  batch: number,
  nodeIds: readonly string[],
  configured: number,
  expiresAt: number,
): GroupItem[] {
  const size = groupSizeFor(nodeIds.length, configured);
  const items: GroupItem[] = [];
  for (let group = 0; group * size < nodeIds.length; group++) {
    const slice = nodeIds.slice(group * size, (group + 1) * size);
    items.push({ runId, sk: groupSk(batch, group), batch, group, nodeIds: slice, expiresAt });
  }
  return items;
}

/**
 * Throws InvalidRunRequest when batches of `sizes` are more than one execution's history can
 * hold: too many batches (the usual case: `--batch` too small), or too many hosts for one run.
 */
export function checkRunShape(sizes: readonly number[], configured: number, batchSleep = true): void {
  const hosts = sizes.reduce((sum, size) => sum + size, 0);
  if (sizes.length > MAX_BATCHES) {
    const smallest = Math.ceil(hosts / MAX_BATCHES);
    throw new InvalidRunRequest(
      `${hosts} hosts in batches of ${sizes[0]} make ${sizes.length} batches, more than the ${MAX_BATCHES} a run can go through ` +
        `(Step Functions keeps at most 25,000 events of an execution): use --batch ${smallest} or more, or split the run with filters`,
    );
  }
  const events = runHistoryEvents(
    sizes.map((size) => groupCount(size, configured)),
    batchSleep,
  );
  if (events > HISTORY_BUDGET) {
    throw new InvalidRunRequest(
      `${hosts} hosts in ${sizes.length} batches take ${events} Step Functions history events, more than the ` +
        `${HISTORY_BUDGET} a run may plan (an execution keeps at most 25,000): split the run with filters`,
    );
  }
}
