/**
 * The fleet as the facts (nodes) table records it, for the commands that only read it: `find`,
 * `facts`, `inventory`. Nothing is sent to any host.
 */
import { matchFilter, parseFilter } from '#shared/filter/index.ts';
import type { FilterSpec } from '#shared/messages.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { isFresh } from '#shared/freshness.ts';
import { isMember } from '#shared/node-status.ts';

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
