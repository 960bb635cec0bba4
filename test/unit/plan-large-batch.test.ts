/**
 * Plan lays out one batch of 50,000 hosts: each dispatch group of 500 counts on its own tally,
 * so no batch-wide item grows with the hosts (the batch used to be capped near 10,500 by its
 * answer sets). The runs table is a recorder here; the layout itself is checked against the
 * local DynamoDB by the ledger's integration tests (test/helpers/run-seed.ts writes it).
 */
import { describe, expect, it } from 'vitest';
import { planRun } from '#functions/run/plan-run.ts';
import {
  groupPk,
  groupSk,
  tallySk,
  batchSk,
  nodeSk,
  type NodeRunItem,
  type TallyItem,
} from '#shared/runs-table.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import type { RunStore } from '#shared/stores/runs-store.ts';
import { MAX_ITEM_BYTES, markerBytes } from '#functions/run/ledger-fit.ts';
import { nodeItem } from '../helpers/factories.ts';
import { fakeNodesTable } from '../helpers/fake-nodes-table.ts';

const NOW = 10_000_000;
const RUN_ID = '01HZY8J9K2M3N4P5Q6R7S8T9VW';
const HOSTS = 50_000;

function recordingRuns() {
  const written: Record<string, unknown>[] = [];
  const runs = {
    putMeta: () => Promise.resolve(true),
    updateMeta: () => Promise.resolve(),
    putMany: (items: readonly Record<string, unknown>[]) => {
      written.push(...items);
      return Promise.resolve();
    },
  } as unknown as RunStore;
  return { runs, written };
}

describe('Plan at 50,000 hosts', () => {
  it('plans them as one batch of 100 dispatch groups, each with its tally', async () => {
    const fleet = Array.from({ length: HOSTS }, (_, i) => {
      const nodeId = `i-${i.toString(16).padStart(17, '0')}`;
      return nodeItem({ nodeId, identity: nodeId, lastSeen: NOW });
    });
    const { db } = fakeNodesTable(fleet, 5_000);
    const { runs, written } = recordingRuns();

    const state = await planRun(
      {
        request: { runId: RUN_ID, command: { shell: 'true' } },
        execution: { name: RUN_ID, startTime: '2026-01-01T00:00:00Z' },
      },
      { runs, nodes: new NodesStore(db, 'nodes', 4), now: () => NOW, retentionDays: 1 },
    );

    expect(state).toMatchObject({ batch: 0, batchCount: 1, more: true });
    expect(state.groups).toHaveLength(100);
    const bySk = new Map(written.map((item) => [String(item.sk), item]));
    expect(bySk.get(batchSk(0))).toMatchObject({ expected: HOSTS, groupCount: 100 });
    expect(bySk.has(batchSk(1))).toBe(false);
    const tallies = written.filter((item) => String(item.sk).startsWith('tally#')) as unknown as TallyItem[];
    expect(tallies).toHaveLength(100);
    expect(tallies.every((t) => t.expected === 500)).toBe(true);
    expect(bySk.get(tallySk(0, 99))).toMatchObject({
      runId: groupPk(RUN_ID, 0, 99),
      run: RUN_ID,
      group: 99,
      expected: 500,
    });
    // Each node names the group whose document it is sent in, the one its replies count in.
    const nodes = written.filter((item) => String(item.sk).startsWith('node#')) as unknown as NodeRunItem[];
    expect(nodes).toHaveLength(HOSTS);
    for (const group of [0, 37, 99]) {
      const targets = (bySk.get(groupSk(0, group)) as { nodeIds: string[] }).nodeIds;
      expect(targets).toHaveLength(500);
      expect(targets.every((id) => bySk.get(nodeSk(id))?.group === group)).toBe(true);
      // …and lives in that group's own partition, so the run's writes spread over 100 of them.
      expect(targets.every((id) => bySk.get(nodeSk(id))?.runId === groupPk(RUN_ID, 0, group))).toBe(true);
      // Every group's answer sets fit a tally with room to spare.
      expect(markerBytes(targets)).toBeLessThan(MAX_ITEM_BYTES / 10);
    }
  }, 60_000);
});
