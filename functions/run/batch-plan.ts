/**
 * The items Plan writes for one batch: the batch item (its expected count and number of dispatch
 * groups), one group item (its targets, for Dispatch) and one tally item (its counts, for the
 * ledger) per dispatch group, and one node item per target, which names its batch and group so a
 * reply can only move and count its node in the batch and group it was sent in. A group's tally
 * and node items are in the group's own partition (`groupPk`); the others in the run's.
 */
import {
  batchSk,
  groupPk,
  nodeSk,
  tallySk,
  type BatchItem,
  type GroupItem,
  type NodeRunItem,
  type TallyItem,
} from '#shared/runs-table.ts';
import { groupItems } from './dispatch-groups.ts';

/** What Plan keeps of a target. */
export type PlannedTarget = Pick<NodeRunItem, 'nodeId' | 'identity' | 'inbox'>;

export interface BatchPlan {
  batch: BatchItem;
  groups: GroupItem[];
  tallies: TallyItem[];
  nodes: NodeRunItem[];
}

/** The items of batch `batch` of run `runId`, its targets cut into groups of `groupSize` (configured). */
export function planBatch(
  runId: string,
  batch: number,
  targets: readonly PlannedTarget[],
  groupSize: number,
  expiresAt: number,
): BatchPlan {
  const groups = groupItems(
    runId,
    batch,
    targets.map((t) => t.nodeId),
    groupSize,
    expiresAt,
  );
  const tallies: TallyItem[] = groups.map((g) => ({
    runId: groupPk(runId, batch, g.group),
    run: runId,
    sk: tallySk(batch, g.group),
    batch,
    group: g.group,
    expected: g.nodeIds.length,
    expiresAt,
  }));
  const nodes: NodeRunItem[] = [];
  let offset = 0;
  for (const g of groups) {
    for (const [slot, target] of targets.slice(offset, offset + g.nodeIds.length).entries()) {
      nodes.push({
        runId: groupPk(runId, batch, g.group),
        run: runId,
        sk: nodeSk(target.nodeId),
        nodeId: target.nodeId,
        identity: target.identity,
        batch,
        group: g.group,
        slot,
        inbox: target.inbox,
        status: 'pending',
        expiresAt,
      });
    }
    offset += g.nodeIds.length;
  }
  const item: BatchItem = {
    runId,
    sk: batchSk(batch),
    batch,
    expected: targets.length,
    groupCount: groups.length,
    expiresAt,
  };
  return { batch: item, groups, tallies, nodes };
}

/** Every item of a batch's plan, for one BatchWriteItem stream. */
export const planItems = (plan: BatchPlan): Record<string, unknown>[] => [
  { ...plan.batch },
  ...plan.groups.map((g) => ({ ...g })),
  ...plan.tallies.map((t) => ({ ...t })),
  ...plan.nodes.map((n) => ({ ...n })),
];
