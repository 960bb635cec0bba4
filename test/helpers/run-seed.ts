/**
 * Seeds a batch of a run in the runs table exactly as Plan lays it out (functions/run/batch-plan.ts:
 * batch, group, tally and node items), so ledger tests start from the real layout.
 */
import { BatchWriteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { planBatch, planItems, type BatchPlan } from '#functions/run/batch-plan.ts';
import { sumCounts, tallyCounts, type BatchCounts } from '#functions/run/reply-transitions.ts';
import { RunReader } from '#shared/stores/runs-reads.ts';
import {
  batchSk,
  groupPk,
  nodeSk,
  tallySk,
  type BatchItem,
  type NodeRunItem,
  type TallyItem,
} from '#shared/runs-table.ts';

export interface SeedOptions {
  batch?: number;
  /** Hosts per dispatch group (500 by default, as Plan). */
  groupSize?: number;
  /** When the batch was dispatched; undefined: not dispatched. */
  dispatchedAt?: number;
  /** Extra attributes of the batch item. */
  batchExtras?: Record<string, unknown>;
}

export async function seedBatch(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
  nodeIds: readonly string[],
  options: SeedOptions = {},
): Promise<BatchPlan> {
  const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
  const targets = nodeIds.map((nodeId) => ({
    nodeId,
    identity: nodeId,
    inbox: `http://127.0.0.1:1/000000000000/drover-test-node-${nodeId}`,
  }));
  const plan = planBatch(runId, options.batch ?? 0, targets, options.groupSize ?? 500, expiresAt);
  const items = planItems(plan);
  items[0] = {
    ...items[0],
    ...(options.dispatchedAt !== undefined ? { dispatchedAt: options.dispatchedAt } : {}),
    ...options.batchExtras,
  };
  for (let i = 0; i < items.length; i += 25) {
    await db.send(
      new BatchWriteCommand({
        RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
  return plan;
}

/** A batch's counts: its tallies' added up, read consistently. */
export async function batchCountsOf(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
  batch = 0,
): Promise<BatchCounts> {
  const item = (
    await db.send(
      new GetCommand({ TableName: table, Key: { runId, sk: batchSk(batch) }, ConsistentRead: true }),
    )
  ).Item as BatchItem | undefined;
  if (!item) throw new Error(`no batch ${batch} in run ${runId}`);
  const tallies: TallyItem[] = [];
  for (let group = 0; group < (item.groupCount ?? 1); group++) {
    const out = await db.send(
      new GetCommand({
        TableName: table,
        Key: { runId: groupPk(runId, batch, group), sk: tallySk(batch, group) },
        ConsistentRead: true,
      }),
    );
    if (out.Item) tallies.push(out.Item as TallyItem);
  }
  return sumCounts(tallies.map(tallyCounts));
}

/** A node item of a seeded run, read consistently from its group's partition (group 0 unless told). */
export async function nodeItemOf(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
  nodeId: string,
  at: { batch?: number; group?: number } = {},
): Promise<NodeRunItem | undefined> {
  const out = await db.send(
    new GetCommand({
      TableName: table,
      Key: { runId: groupPk(runId, at.batch ?? 0, at.group ?? 0), sk: nodeSk(nodeId) },
      ConsistentRead: true,
    }),
  );
  return out.Item as NodeRunItem | undefined;
}

/**
 * A node item of a run, wherever the run's layout keeps it (its group's partition, or the run's on
 * runs planned before groups had partitions), with its output: read through RunReader.
 */
export async function runNodeOf(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
  nodeId: string,
): Promise<NodeRunItem | undefined> {
  const nodes = await new RunReader(db, table).queryNodes(runId, { withOutput: true });
  return nodes.find((node) => node.nodeId === nodeId);
}
