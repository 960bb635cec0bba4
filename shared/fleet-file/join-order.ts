/**
 * Ordinal addressing (`drover run --group nucleus --ordinal 0`, the cell notes' `cell cmd <cell>
 * nucleus 0`): the hosts of a group in the order they joined, identity breaking ties, and the
 * nth of them. The order holds while the group's membership does: a host that leaves (or goes
 * stale) moves every later host up one place. Plan picks targets with it; `drover fleet hosts`
 * lists a group in the same order.
 */
import { GROUP_FACT } from './group-name.ts';
import type { NodeItem } from '#shared/runs-table.ts';

/**
 * Whether the host reports `group` as its group fact. A number compares as its text, as the
 * `group="…"` filter of `--group` does: a host with `group: 7` is in group "7" either way.
 */
function isOf(node: NodeItem, group: string): boolean {
  const fact = node.facts[GROUP_FACT];
  return (typeof fact === 'string' || typeof fact === 'number') && String(fact) === group;
}

/** The group's hosts among `nodes`, first joined first. */
export function groupInJoinOrder(nodes: readonly NodeItem[], group: string): NodeItem[] {
  // A record without joinedAt (written before it was kept) sorts after every host that has one.
  const joined = (node: NodeItem) => node.joinedAt ?? Number.MAX_SAFE_INTEGER;
  return nodes
    .filter((node) => isOf(node, group))
    .sort((a, b) => joined(a) - joined(b) || a.identity.localeCompare(b.identity));
}

/** The `index`th host of `group` (none when the group has fewer hosts). */
export function nthOfGroup(
  nodes: readonly NodeItem[],
  ordinal: { group: string; index: number } | undefined,
): readonly NodeItem[] {
  if (ordinal === undefined) return nodes;
  return groupInJoinOrder(nodes, ordinal.group).slice(ordinal.index, ordinal.index + 1);
}
