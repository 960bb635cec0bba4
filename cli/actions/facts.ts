/**
 * `drover facts <fact>`: how a fact's values are distributed across the matching hosts, with the
 * count and the hosts of each value (MCollective's `mco facts`).
 */
import { lookupFact } from '#shared/filter/index.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { EXIT, type CommandContext } from '../context.ts';
import { filterSpecFrom, type FilterFlags } from '../filter-flags.ts';
import { withStack } from '../stack.ts';
import { visible } from '../output/visible.ts';
import { discoverHosts } from '#shared/discovery.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { columns, plural } from '../output/format.ts';
import type { FactsJson } from '../output/schemas.ts';

export interface FactsFlags extends FilterFlags {
  json?: boolean;
}

/** Hosts listed per value in text output; --json lists them all. */
const HOSTS_SHOWN = 10;

/** A fact value as one line of text: scalars as they are, structures as JSON. */
export function factText(value: unknown): string {
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The distribution of `fact` over `hosts`: values by count (then by text), and hosts without it. */
export function factDistribution(
  fact: string,
  hosts: readonly NodeItem[],
): Pick<FactsJson, 'values' | 'missing'> {
  const values = new Map<string, { value: unknown; hosts: string[] }>();
  const missing: string[] = [];
  for (const host of hosts) {
    const value = lookupFact(host.facts, fact);
    if (value === undefined) {
      missing.push(host.identity);
      continue;
    }
    const text = factText(value);
    const entry = values.get(text) ?? { value, hosts: [] };
    entry.hosts.push(host.identity);
    values.set(text, entry);
  }
  return {
    values: [...values.entries()]
      .map(([text, entry]) => ({ value: entry.value, text, count: entry.hosts.length, hosts: entry.hosts }))
      .sort((a, b) => b.count - a.count || a.text.localeCompare(b.text)),
    missing,
  };
}

export function factsText(fact: string, doc: Pick<FactsJson, 'values' | 'missing' | 'hosts'>): string {
  const hostList = (hosts: readonly string[]) =>
    hosts.length <= HOSTS_SHOWN
      ? hosts.join(', ')
      : `${hosts.slice(0, HOSTS_SHOWN).join(', ')}, … (${hosts.length - HOSTS_SHOWN} more; --json lists all)`;
  const rows = doc.values.map((v) => [v.text, `found ${plural(v.count, 'time')}`, hostList(v.hosts)]);
  if (doc.missing.length > 0)
    rows.push(['(missing)', `on ${plural(doc.missing.length, 'host')}`, hostList(doc.missing)]);
  const body = columns(rows)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return `Report for fact: ${fact}\n\n${body}\n\nFinished processing ${plural(doc.hosts, 'host')}\n`;
}

export async function factsCommand(fact: string, flags: FactsFlags, ctx: CommandContext): Promise<number> {
  const { io } = ctx;
  const spec = filterSpecFrom(flags);
  return withStack(ctx.stack, async (conn) => {
    const nodes = new NodesStore(conn.db, conn.nodesTable);
    const hosts = await discoverHosts(nodes, { filter: spec }, Date.now());
    const doc: FactsJson = { fact, filter: spec, hosts: hosts.length, ...factDistribution(fact, hosts) };
    if (flags.json) io.out(JSON.stringify(doc, null, 2) + '\n');
    else if (hosts.length === 0) io.err('No hosts matched the filter.\n');
    else io.out(visible(factsText(fact, doc), 'lines'));
    if (hosts.length > 0 && doc.values.length === 0 && !flags.json) {
      io.err(`No host has the fact "${fact}" (drover inventory <host> lists a host's facts).\n`);
    }
    return doc.values.length > 0 ? EXIT.ok : EXIT.noMatch;
  });
}
