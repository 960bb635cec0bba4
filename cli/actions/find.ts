/**
 * `drover find`: discovery only. The hosts matching the filters, from the facts table, with how
 * long ago each was last heard from. Nothing is sent. One host per line, identity first, so the
 * output feeds `--nodes -`.
 */
import { EXIT, type CommandContext } from '../context.ts';
import { filterSpecFrom, type FilterFlags } from '../filter-flags.ts';
import { withStack } from '../stack.ts';
import { visible } from '../output/visible.ts';
import { isFresh } from '#shared/freshness.ts';
import { isMember, nodeStatus } from '#shared/node-status.ts';
import { discoverHosts } from '#shared/discovery.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { ago, columns, plural } from '../output/format.ts';
import type { FindJson } from '../output/schemas.ts';
import type { NodeItem } from '#shared/runs-table.ts';

export interface FindFlags extends FilterFlags {
  json?: boolean;
  includeStale?: boolean;
  /** Also hosts that are no longer members (lost, stopped, terminated), listed apart. */
  all?: boolean;
}

export async function findCommand(flags: FindFlags, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const spec = filterSpecFrom(flags);
  return withStack(ctx.stack, async (conn) => {
    const now = Date.now();
    const include = flags.all ? 'all' : flags.includeStale ? 'members' : 'fresh';
    const hosts = await discoverHosts(
      new NodesStore(conn.db, conn.nodesTable),
      { filter: spec, include },
      now,
    );
    const members = hosts.filter(isMember);
    const gone = hosts.filter((h) => !isMember(h));
    if (flags.json) {
      const doc: FindJson = {
        filter: spec,
        count: hosts.length,
        hosts: hosts.map((h) => ({
          identity: h.identity,
          nodeId: h.nodeId,
          lastSeen: h.lastSeen,
          lastSeenAgoMs: Math.max(0, now - h.lastSeen),
          stale: !isFresh(h, now),
          agentVersion: h.agentVersion,
          status: nodeStatus(h),
          ...(h.statusReason ? { statusReason: h.statusReason } : {}),
        })),
      };
      io.out(JSON.stringify(doc, null, 2) + '\n');
    } else {
      const rows = members.map((h) => [
        h.identity,
        `last seen ${ago(now - h.lastSeen)}${isFresh(h, now) ? '' : ' (stale)'}`,
        h.nodeId === h.identity ? '' : h.nodeId,
      ]);
      if (rows.length > 0) io.out(visible(columns(rows), 'lines') + '\n');
      if (gone.length > 0)
        io.out(
          `${rows.length > 0 ? '\n' : ''}Not in service:\n` + visible(goneRows(gone, now), 'lines') + '\n',
        );
    }
    if (!flags.json) {
      io.err(
        hosts.length === 0
          ? 'No hosts matched the filter.\n'
          : `${plural(members.length, 'host')} matched${gone.length > 0 ? ` (and ${gone.length} not in service)` : ''}, from the facts table (nothing was sent).\n`,
      );
    }
    return members.length > 0 ? EXIT.ok : EXIT.noMatch;
  });
}

/** Lost, stopped and terminated hosts: status, since when, why. */
function goneRows(hosts: readonly NodeItem[], now: number): string {
  const rows = hosts.map((h) => [
    h.identity,
    `${nodeStatus(h)} ${h.statusAt !== undefined ? ago(now - h.statusAt) : ''}`.trim(),
    h.statusReason ?? '',
    h.nodeId === h.identity ? '' : h.nodeId,
  ]);
  return columns(rows)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
