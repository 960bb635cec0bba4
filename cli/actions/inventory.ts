/**
 * `drover inventory <host>`: everything the facts table knows about one host: facts, classes,
 * agent version, when it was last heard from (MCollective's `mco inventory`).
 */
import { stringify } from 'yaml';
import type { NodeItem } from '#shared/runs-table.ts';
import { EXIT, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { withStack } from '../stack.ts';
import { visible } from '../output/visible.ts';
import { DEFAULT_STALE_AFTER_HEARTBEATS, isFresh } from '#shared/freshness.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { ago } from '../output/format.ts';
import type { InventoryJson } from '../output/schemas.ts';

export interface InventoryFlags {
  json?: boolean;
}

const indent = (text: string, by: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => by + line)
    .join('\n');

export function inventoryJson(node: NodeItem, now: number): InventoryJson {
  return {
    identity: node.identity,
    nodeId: node.nodeId,
    agentVersion: node.agentVersion,
    lastSeen: node.lastSeen,
    lastSeenAgoMs: Math.max(0, now - node.lastSeen),
    stale: !isFresh(node, now),
    heartbeatSec: node.heartbeatSec,
    joinedAt: node.joinedAt ?? null,
    startedAt: node.startedAt ?? null,
    inbox: node.inbox,
    classes: [...(node.classes ?? [])].sort(),
    facts: node.facts ?? {},
  };
}

export function inventoryText(doc: InventoryJson, now: number): string {
  const when = (ms: number | null) =>
    ms === null ? '-' : `${new Date(ms).toISOString()} (${ago(now - ms)})`;
  const freshness = doc.stale
    ? `stale: silent for more than ${DEFAULT_STALE_AFTER_HEARTBEATS} heartbeats, runs do not pick it`
    : 'fresh';
  const lines = [
    `Inventory for ${doc.identity}:`,
    '',
    `   Node id:        ${doc.nodeId}`,
    `   Agent version:  ${doc.agentVersion}`,
    `   Last seen:      ${when(doc.lastSeen)}, ${freshness}`,
    `   Heartbeat:      every ${doc.heartbeatSec}s`,
    `   Agent started:  ${when(doc.startedAt)}`,
    `   Joined:         ${when(doc.joinedAt)}`,
    `   Inbox:          ${doc.inbox}`,
    '',
    '   Classes:',
    doc.classes.length > 0 ? indent(doc.classes.join('\n'), '      ') : '      (none)',
    '',
    '   Facts:',
    Object.keys(doc.facts).length > 0 ? indent(stringify(sortKeys(doc.facts)), '      ') : '      (none)',
  ];
  return lines.join('\n') + '\n';
}

function sortKeys(facts: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(facts).sort(([a], [b]) => a.localeCompare(b)));
}

export async function inventoryCommand(
  host: string,
  flags: InventoryFlags,
  ctx: CommandContext,
): Promise<number> {
  const { io } = ctx;
  return withStack(ctx.stack, async (conn) => {
    const node = await new NodesStore(conn.db, conn.nodesTable).find(host);
    if (!node) {
      throw new CliError(
        `no host "${host}" in the facts table of stage ${conn.stage} (drover find lists them)`,
        EXIT.noMatch,
      );
    }
    const now = Date.now();
    const doc = inventoryJson(node, now);
    io.out(flags.json ? JSON.stringify(doc, null, 2) + '\n' : visible(inventoryText(doc, now), 'lines'));
    return EXIT.ok;
  });
}
