/**
 * Discovery: which hosts of the nodes (facts) table a question is about. One rule for every
 * asker: a run's plan (exec, ping, cancel), and the CLI's `find`, `facts`, `inventory` and
 * `fleet hosts`. The selection is over a list (`selectHosts`) or, the same choice, page by page
 * over the table (`discoverHosts`), holding only what is kept. Nothing is sent to any host.
 */
import { matchFilter, parseFilter, type Filter } from './filter/index.ts';
import { compareNames } from './name-order.ts';
import { isFresh } from './freshness.ts';
import { groupInJoinOrder, nthOfGroup } from './fleet-file/join-order.ts';
import { isMember } from './node-status.ts';
import type { FilterSpec } from './messages.ts';
import type { NodeItem } from './runs-table.ts';
import type { NodesStore } from './stores/nodes-store.ts';

export interface HostQuery {
  filter: FilterSpec;
  /** Only these hosts, by identity or node id (`--nodes`). */
  nodes?: readonly string[];
  /** The `index`th host of a group in join order; the filter applies after it picks. */
  ordinal?: { group: string; index: number };
  /** Heartbeat intervals after which a silent host counts as stale (freshness.ts's default). */
  staleAfterHeartbeats?: number;
  /**
   * Which hosts are in play: `fresh` (default: members heard from recently), `members` (stale
   * members too), `all` (every record, lost, stopped and terminated hosts too).
   */
  include?: 'fresh' | 'members' | 'all';
}

/** The checks of a query that need no other host: everything but the ordinal's pick. */
function hostTest(query: HostQuery, now: number): (node: NodeItem) => boolean {
  const filter: Filter = parseFilter(query.filter);
  const wanted = query.nodes ? new Set(query.nodes) : undefined;
  const include = query.include ?? 'fresh';
  return (node) =>
    (include === 'all' ||
      (include === 'members' ? isMember(node) : isFresh(node, now, query.staleAfterHeartbeats))) &&
    (!wanted || wanted.has(node.identity) || wanted.has(node.nodeId)) &&
    matchFilter(filter, { identity: node.identity, facts: node.facts, classes: node.classes });
}

const byIdentity = (a: NodeItem, b: NodeItem) => compareNames(a.identity, b.identity);

/**
 * The hosts among `nodes` the query is about, sorted by identity. Throws the filter's
 * FilterSyntaxError for a filter that does not parse.
 */
export function selectHosts(nodes: readonly NodeItem[], query: HostQuery, now: number): NodeItem[] {
  const test = hostTest(query, now);
  if (!query.ordinal) return nodes.filter(test).sort(byIdentity);
  // The ordinal counts the group's fresh hosts, whatever the filter: pick first, then filter.
  const fresh = nodes.filter((node) => isFresh(node, now, query.staleAfterHeartbeats));
  return nthOfGroup(fresh, query.ordinal).filter(test).sort(byIdentity);
}

/**
 * The same choice as `selectHosts` over the whole table, read page by page: each host kept is
 * passed through `keep` (Plan drops the facts it no longer needs), the others are dropped with
 * their page. With an ordinal, the group's fresh hosts are kept whole until the pick.
 */
export async function discoverHosts(
  store: NodesStore,
  query: HostQuery,
  now: number,
  keep: (node: NodeItem) => NodeItem = (node) => node,
): Promise<NodeItem[]> {
  const test = hostTest(query, now);
  const { ordinal } = query;
  if (ordinal) {
    const group = await store.select((node) =>
      isFresh(node, now, query.staleAfterHeartbeats) && groupInJoinOrder([node], ordinal.group).length > 0
        ? node
        : undefined,
    );
    return selectHosts(group, query, now).map(keep);
  }
  const kept = await store.select((node) => (test(node) ? keep(node) : undefined));
  return kept.sort(byIdentity);
}
