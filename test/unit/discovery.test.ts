/**
 * Discovery (shared/discovery.ts), the one selection of hosts behind plan, find, facts and ping:
 * which hosts each `include` admits, and that the paged read of the table chooses exactly what
 * the selection over the whole list does, for any fleet and any query (fast-check).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { discoverHosts, selectHosts, type HostQuery } from '#shared/discovery.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { FilterSyntaxError } from '#shared/filter/index.ts';
import type { FilterSpec } from '#shared/messages.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { nodeItem } from '../helpers/factories.ts';
import { fakeNodesTable } from '../helpers/fake-nodes-table.ts';

const NOW = 10_000_000;
const EVERY: FilterSpec = { with: [], fact: [], class: [], identity: [] };

const host = (identity: string, overrides: Partial<NodeItem> = {}) =>
  nodeItem({ nodeId: `i-${identity}`, identity, lastSeen: NOW, ...overrides });

const fleet = [
  host('fresh-web'),
  host('fresh-db', { facts: { role: 'db' } }),
  host('stale', { lastSeen: NOW - 10 * 60_000 }),
  host('lost', { status: 'lost' }),
  host('terminated', { status: 'terminated', lastSeen: 0 }),
];
const names = (nodes: readonly NodeItem[]) => nodes.map((n) => n.identity);

describe('selectHosts', () => {
  it('admits fresh members by default, stale members with `members`, every record with `all`', () => {
    expect(names(selectHosts(fleet, { filter: EVERY }, NOW))).toEqual(['fresh-db', 'fresh-web']);
    expect(names(selectHosts(fleet, { filter: EVERY, include: 'members' }, NOW))).toEqual([
      'fresh-db',
      'fresh-web',
      'stale',
    ]);
    expect(names(selectHosts(fleet, { filter: EVERY, include: 'all' }, NOW))).toEqual([
      'fresh-db',
      'fresh-web',
      'lost',
      'stale',
      'terminated',
    ]);
  });

  it('applies the filter, the host list and staleness together', () => {
    const query: HostQuery = { filter: { ...EVERY, fact: ['role=web'] }, nodes: ['fresh-web', 'i-stale'] };
    expect(names(selectHosts(fleet, query, NOW))).toEqual(['fresh-web']);
    expect(names(selectHosts(fleet, { ...query, staleAfterHeartbeats: 100 }, NOW))).toEqual([
      'fresh-web',
      'stale',
    ]);
  });

  it('throws the filter’s syntax error for a filter that does not parse', () => {
    expect(() => selectHosts(fleet, { filter: { ...EVERY, select: 'role = (' } }, NOW)).toThrow(
      FilterSyntaxError,
    );
  });
});

/** Fleets of up to 30 hosts in two groups and two roles, some stale, some no longer members. */
const fleetArb = fc
  .array(
    fc.record({
      group: fc.constantFrom('a', 'b'),
      role: fc.constantFrom('web', 'db'),
      ageSec: fc.integer({ min: 0, max: 1_000 }),
      joinedAt: fc.integer({ min: 0, max: 5 }),
      status: fc.constantFrom(undefined, 'active', 'lost', 'stopped'),
    }),
    { maxLength: 30 },
  )
  .map((hosts) =>
    hosts.map((h, i) =>
      host(`h${String(i).padStart(2, '0')}`, {
        facts: { group: h.group, role: h.role },
        lastSeen: NOW - h.ageSec * 1000,
        joinedAt: h.joinedAt,
        ...(h.status ? { status: h.status } : {}),
      }),
    ),
  );

const queryArb: fc.Arbitrary<HostQuery> = fc.record(
  {
    filter: fc.constantFrom(EVERY, { ...EVERY, fact: ['role=web'] }, { ...EVERY, select: 'role = db' }),
    nodes: fc.array(fc.constantFrom('h00', 'h01', 'i-h02', 'h03', 'nope'), { maxLength: 3 }),
    ordinal: fc.record({ group: fc.constantFrom('a', 'b'), index: fc.integer({ min: 0, max: 3 }) }),
    staleAfterHeartbeats: fc.integer({ min: 1, max: 20 }),
    include: fc.constantFrom('fresh' as const, 'members' as const, 'all' as const),
  },
  { requiredKeys: ['filter'] },
);

describe('discoverHosts', () => {
  it('chooses, page by page, what selectHosts chooses over the whole fleet', async () => {
    await fc.assert(
      fc.asyncProperty(fleetArb, queryArb, fc.integer({ min: 1, max: 4 }), async (nodes, query, pageSize) => {
        const { db } = fakeNodesTable(nodes, pageSize);
        const paged = await discoverHosts(new NodesStore(db, 'nodes', 3), query, NOW);
        expect(names(paged)).toEqual(names(selectHosts(nodes, query, NOW)));
      }),
      { numRuns: 200 },
    );
  });

  it('passes every kept host through `keep`, and only those', async () => {
    const { db } = fakeNodesTable(fleet, 2);
    const kept: string[] = [];
    const hosts = await discoverHosts(new NodesStore(db, 'nodes', 2), { filter: EVERY }, NOW, (n) => {
      kept.push(n.identity);
      return { ...n, facts: {} };
    });
    expect(kept.sort()).toEqual(['fresh-db', 'fresh-web']);
    expect(hosts.every((n) => Object.keys(n.facts).length === 0)).toBe(true);
  });
});
