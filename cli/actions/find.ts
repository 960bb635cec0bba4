/**
 * `drover find`: discovery only. The hosts matching the filters, from the facts table, with how
 * long ago each was last heard from. Nothing is sent. One host per line, identity first, so the
 * output feeds `--nodes -`.
 */
import { EXIT, type CommandContext } from '../context.ts';
import { filterSpecFrom, type FilterFlags } from '../run-request.ts';
import { withStack } from '../stack.ts';
import { visible } from '../output/visible.ts';
import { isFresh } from '#shared/freshness.ts';
import { scanFleet, selectHosts } from '../fleet.ts';
import { ago, columns, plural } from '../output/format.ts';
import type { FindJson } from '../output/schemas.ts';

export interface FindFlags extends FilterFlags {
  json?: boolean;
  includeStale?: boolean;
}

export async function findCommand(flags: FindFlags, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const spec = filterSpecFrom(flags);
  return withStack(ctx.stack, async (conn) => {
    const now = Date.now();
    const hosts = selectHosts(await scanFleet(conn.db, conn.nodesTable), spec, now, {
      includeStale: flags.includeStale,
    });
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
        })),
      };
      io.out(JSON.stringify(doc, null, 2) + '\n');
    } else if (hosts.length > 0) {
      const rows = hosts.map((h) => [
        h.identity,
        `last seen ${ago(now - h.lastSeen)}${isFresh(h, now) ? '' : ' (stale)'}`,
        h.nodeId === h.identity ? '' : h.nodeId,
      ]);
      io.out(visible(columns(rows), 'lines') + '\n');
    }
    if (!flags.json) {
      io.err(
        hosts.length === 0
          ? 'No hosts matched the filter.\n'
          : `${plural(hosts.length, 'host')} matched, from the facts table (nothing was sent).\n`,
      );
    }
    return hosts.length > 0 ? EXIT.ok : EXIT.noMatch;
  });
}
