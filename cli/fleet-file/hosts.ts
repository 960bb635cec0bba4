/**
 * `drover fleet hosts <group>`: the group's in-service hosts in ordinal order (join time, then
 * identity), the order `drover run --group <group> --ordinal N` picks from. Reads the facts
 * table only; nothing is sent.
 */
import { isFresh } from '#shared/freshness.ts';
import { GROUP_NAME, GROUP_NAME_RULE } from '#shared/fleet-file/group-name.ts';
import { groupInJoinOrder } from '#shared/fleet-file/join-order.ts';
import { EXIT, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { withStack } from '../stack.ts';
import { ago, columns, plural } from '../output/format.ts';
import type { FleetHostsJson } from './output-schemas.ts';

export async function hostsCommand(group: string, flags: { json?: boolean }, ctx: CommandContext) {
  if (!GROUP_NAME.test(group)) throw new CliError(`${JSON.stringify(group)}: ${GROUP_NAME_RULE}`);
  return withStack(ctx.stack, async (conn) => {
    const now = Date.now();
    const nodes = new NodesStore(conn.db, conn.nodesTable);
    const fresh = await nodes.select((node) => (isFresh(node, now) ? node : undefined));
    const doc: FleetHostsJson = {
      group,
      hosts: groupInJoinOrder(fresh, group).map((node, ordinal) => ({
        ordinal,
        identity: node.identity,
        nodeId: node.nodeId,
        joinedAt: node.joinedAt,
        lastSeen: node.lastSeen,
      })),
    };
    if (flags.json) ctx.io.out(JSON.stringify(doc, null, 2) + '\n');
    else if (doc.hosts.length > 0) {
      const rows = doc.hosts.map((h) => [String(h.ordinal), h.identity, `joined ${ago(now - h.joinedAt)}`]);
      ctx.io.out(columns(rows) + '\n');
      ctx.io.err(`${plural(doc.hosts.length, 'host')} of group ${group} in service, in ordinal order.\n`);
    }
    if (doc.hosts.length === 0) {
      if (!flags.json) {
        ctx.io.err(`No host of group ${group} is in service (hosts report the fact group: ${group}).\n`);
      }
      return EXIT.noMatch;
    }
    return EXIT.ok;
  });
}
