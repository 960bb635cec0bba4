/**
 * Reads of the runs table shared by the control plane and the CLI: a run's meta item and its
 * node items, with or without their output.
 */
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  META_SK,
  NODE_SK_PREFIX,
  RESULTS_INDEX,
  nodeSk,
  type NodeRunItem,
  type RunMetaItem,
} from './runs-table.ts';

/** Node item attributes except the (large) output streams. */
const NODE_FIELDS_WITHOUT_OUTPUT = [
  'runId',
  'sk',
  'nodeId',
  'identity',
  'batch',
  'inbox',
  'status',
  'closed',
  'lateAs',
  'lateAfterSummary',
  'exitCode',
  'signal',
  'timedOut',
  'reason',
  'error',
  'ackedAt',
  'startedAt',
  'endedAt',
  'resultAt',
  'expiresAt',
] as const;

export async function getRunMeta(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
): Promise<RunMetaItem | undefined> {
  const out = await db.send(
    new GetCommand({ TableName: table, Key: { runId, sk: META_SK }, ConsistentRead: true }),
  );
  return out.Item as RunMetaItem | undefined;
}

/** All node items of a run (optionally one batch), without their output unless asked. */
export async function queryRunNodes(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
  options: { batch?: number; withOutput?: boolean } = {},
): Promise<NodeRunItem[]> {
  const items: NodeRunItem[] = [];
  const names: Record<string, string> = { '#r': 'runId', '#sk': 'sk' };
  const values: Record<string, unknown> = { ':r': runId, ':p': NODE_SK_PREFIX };
  let filter: string | undefined;
  if (options.batch !== undefined) {
    names['#b'] = 'batch';
    values[':b'] = options.batch;
    filter = '#b = :b';
  }
  let projection: string | undefined;
  if (!options.withOutput) {
    NODE_FIELDS_WITHOUT_OUTPUT.forEach((field, i) => (names[`#p${i}`] = field));
    projection = NODE_FIELDS_WITHOUT_OUTPUT.map((_, i) => `#p${i}`).join(', ');
  }
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#r = :r AND begins_with(#sk, :p)',
        FilterExpression: filter,
        ProjectionExpression: projection,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    items.push(...((out.Items ?? []) as NodeRunItem[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The full node items (with output) of some nodes of a run, 100 per request. */
export async function getRunNodes(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
  nodeIds: readonly string[],
): Promise<NodeRunItem[]> {
  const found: NodeRunItem[] = [];
  for (let i = 0; i < nodeIds.length; i += 100) {
    let keys: Record<string, unknown>[] = nodeIds.slice(i, i + 100).map((id) => ({ runId, sk: nodeSk(id) }));
    for (let attempt = 0; keys.length > 0; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 6)));
      const out = await db.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
      );
      found.push(...((out.Responses?.[table] ?? []) as NodeRunItem[]));
      keys = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  return found;
}

/** A node item's key in the results index, and when its result landed. */
export interface LandedKey {
  nodeId: string;
  resultAt: number;
}

/**
 * Node items of a run whose result (or rejection) landed at `sinceMs` or later, keys only, from
 * the sparse results index: a watcher's read costs what landed since, not the size of the run.
 * The index is eventually consistent: re-read a little before the last landing seen, and read the
 * run whole once at its end.
 */
export async function queryLandedSince(
  db: DynamoDBDocumentClient,
  table: string,
  runId: string,
  sinceMs: number,
): Promise<LandedKey[]> {
  const found: LandedKey[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        IndexName: RESULTS_INDEX,
        KeyConditionExpression: '#r = :r AND #at >= :since',
        ExpressionAttributeNames: { '#r': 'runId', '#at': 'resultAt' },
        ExpressionAttributeValues: { ':r': runId, ':since': sinceMs },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const sk = String(item.sk);
      if (sk.startsWith(NODE_SK_PREFIX))
        found.push({ nodeId: sk.slice(NODE_SK_PREFIX.length), resultAt: Number(item.resultAt) });
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return found;
}
