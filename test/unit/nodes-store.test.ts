/**
 * Plan's read of the nodes table: parallel scan segments (Segment/TotalSegments), every page of
 * every segment followed, and targets chosen page by page — the same choice as over the whole
 * fleet, holding only the (slimmed) targets so 50,000 hosts with 2–20 KB of facts fit Plan's memory.
 */
import { describe, expect, it } from 'vitest';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { discoverTargets, parseRunRequest, selectTargets, slimTarget } from '#functions/run/plan-run.ts';
import { InvalidRunRequest } from '#functions/run/state.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { nodeItem } from '../helpers/factories.ts';
import { fakeNodesTable as fakeTable } from '../helpers/fake-nodes-table.ts';

const NOW = 10_000_000;

const fleet: NodeItem[] = Array.from({ length: 60 }, (_, i) =>
  nodeItem({
    nodeId: `i-${String(i).padStart(3, '0')}`,
    identity: `host-${String(i).padStart(3, '0')}`,
    lastSeen: i % 10 === 9 ? 0 : NOW, // every tenth host is stale
    joinedAt: 1000 - i,
    facts: { role: i % 3 === 0 ? 'db' : 'web', group: i % 2 === 0 ? 'even' : 'odd', blob: 'x'.repeat(2048) },
  }),
);

const request = (overrides: { filter?: object; options?: object } = {}) =>
  parseRunRequest({ runId: '01HZY8J9K2M3N4P5Q6R7S8T9VW', command: { shell: 'true' }, ...overrides });

describe('NodesStore', () => {
  it('scans in parallel segments, following every page of each, and reads every node once', async () => {
    const { db, scans } = fakeTable(fleet, 4);
    const nodes = await new NodesStore(db, 'nodes', 4).all();

    expect(nodes.map((n) => n.nodeId).sort()).toEqual(fleet.map((n) => n.nodeId).sort());
    expect(new Set(scans.map((s) => s.Segment))).toEqual(new Set([0, 1, 2, 3]));
    expect(scans.every((s) => s.TotalSegments === 4 && s.TableName === 'nodes')).toBe(true);
    // More scans than segments: pages were followed with ExclusiveStartKey.
    expect(scans.filter((s) => s.ExclusiveStartKey).length).toBeGreaterThan(0);
  });

  it('keeps only what select picks', async () => {
    const { db } = fakeTable(fleet, 7);
    const picked = await new NodesStore(db, 'nodes', 3).select((n) =>
      n.facts.role === 'db' ? n.identity : undefined,
    );

    expect(picked.sort()).toEqual(fleet.filter((n) => n.facts.role === 'db').map((n) => n.identity));
  });
});

describe('discoverTargets', () => {
  const cases: [string, ReturnType<typeof request>][] = [
    ['no filter', request()],
    ['a fact filter', request({ filter: { fact: ['role=web'] } })],
    ['a host list', request({ options: { nodes: ['host-001', 'i-002', 'host-009', 'nope'] } })],
    [
      'an ordinal with a filter',
      request({ filter: { fact: ['role=web'] }, options: { ordinal: { group: 'odd', index: 1 } } }),
    ],
  ];

  it.each(cases)('chooses the same hosts as selectTargets over the whole fleet: %s', async (_name, req) => {
    const { db } = fakeTable(fleet, 5);
    const paged = await discoverTargets(req, new NodesStore(db, 'nodes', 4), NOW);
    const whole = selectTargets(req, fleet, NOW);

    expect(paged.map((n) => n.identity)).toEqual(whole.map((n) => n.identity));
    expect(paged.map((n) => n.inbox)).toEqual(whole.map((n) => n.inbox));
  });

  it('holds targets without their facts (what Plan keeps in memory)', async () => {
    const { db } = fakeTable(fleet, 5);
    const paged = await discoverTargets(request(), new NodesStore(db, 'nodes', 4), NOW);

    expect(paged.length).toBeGreaterThan(0);
    expect(paged.every((n) => Object.keys(n.facts).length === 0 && n.classes.length === 0)).toBe(true);
    expect(JSON.stringify(slimTarget(fleet[0]!)).length).toBeLessThan(400);
  });

  it('refuses a bad filter before reading the table', async () => {
    const { db, scans } = fakeTable(fleet, 5);

    await expect(
      discoverTargets(request({ filter: { select: 'role = (' } }), new NodesStore(db, 'nodes', 4), NOW),
    ).rejects.toBeInstanceOf(InvalidRunRequest);
    expect(scans).toEqual([]);
  });
});
