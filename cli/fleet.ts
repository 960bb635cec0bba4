/**
 * The fleet as the facts (nodes) table records it, for the commands that only read it: `find`,
 * `facts`, `inventory`. Nothing is sent to any host.
 */
import { GetCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { matchFilter, parseFilter } from '#shared/filter/index.ts';
import type { FilterSpec } from '#shared/messages.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { isFresh } from '#shared/freshness.ts';
import { isMember } from '#shared/node-status.ts';

/** Every row of the nodes table (paged scan). */
export async function scanFleet(db: DynamoDBDocumentClient, table: string): Promise<NodeItem[]> {
  const nodes: NodeItem[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    nodes.push(...((out.Items ?? []) as NodeItem[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return nodes;
}

/**
 * Hosts matching the filter, sorted by identity; stale ones only when asked, and with `all` every
 * host the table holds (lost, stopped and terminated ones too).
 */
export function selectHosts(
  nodes: readonly NodeItem[],
  spec: FilterSpec,
  now: number,
  options: { includeStale?: boolean; all?: boolean } = {},
): NodeItem[] {
  const filter = parseFilter(spec);
  return nodes
    .filter((node) => options.all || (options.includeStale ? isMember(node) : isFresh(node, now)))
    .filter((node) =>
      matchFilter(filter, { identity: node.identity, facts: node.facts, classes: node.classes }),
    )
    .sort((a, b) => a.identity.localeCompare(b.identity));
}

/** A host by node id, else by identity. */
export async function findHost(
  db: DynamoDBDocumentClient,
  table: string,
  name: string,
): Promise<NodeItem | undefined> {
  const byId = await db.send(new GetCommand({ TableName: table, Key: { nodeId: name } }));
  if (byId.Item) return byId.Item as NodeItem;
  return (await scanFleet(db, table)).find((node) => node.identity === name);
}
