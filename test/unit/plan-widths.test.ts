/**
 * Plan's widths at a large fleet (issue 18 item 3, shared/large-fleet.ts): the nodes table read in
 * as many parallel scan segments as the stage gives (every node still read once), and the run's
 * node items written with as many BatchWriteItem requests in flight as it gives, never more, and
 * never more than there are requests.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RunStore } from '#shared/stores/runs-store.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { nodeSk } from '#shared/runs-table.ts';
import { nodeItem } from '../helpers/factories.ts';
import { fakeNodesTable } from '../helpers/fake-nodes-table.ts';

const fleet = Array.from({ length: 200 }, (_, i) =>
  nodeItem({ nodeId: `i-${String(i).padStart(4, '0')}`, identity: `host-${i}` }),
);

describe('NodesStore scan segments', () => {
  it.each([1, 16, 32])('reads every node exactly once in %i segments', async (segments) => {
    const { db, scans } = fakeNodesTable(fleet, 5);
    const nodes = await new NodesStore(db, 'nodes', segments).all();

    expect(nodes.map((n) => n.nodeId).sort()).toEqual(fleet.map((n) => n.nodeId).sort());
    expect(new Set(scans.map((s) => s.Segment)).size).toBe(segments);
    expect(scans.every((s) => s.TotalSegments === segments)).toBe(true);
  });

  it.each([0, -1, 2.5, Number.NaN])('refuses %s segments rather than read nothing', (segments) => {
    const { db } = fakeNodesTable(fleet, 5);
    expect(() => new NodesStore(db, 'nodes', segments)).toThrow('scan segments must be a whole number');
  });
});

describe('RunStore writes in flight', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  afterEach(() => ddb.reset());

  /** Writes `items` node items and returns the most BatchWrite requests that were in flight at once. */
  async function peakInFlight(store: RunStore, items: number): Promise<{ peak: number; requests: number }> {
    let inFlight = 0;
    let peak = 0;
    ddb.on(BatchWriteCommand).callsFake(async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return {};
    });
    await store.putMany(Array.from({ length: items }, (_, i) => ({ runId: 'r', sk: nodeSk(`n${i}`) })));
    return { peak, requests: ddb.commandCalls(BatchWriteCommand).length };
  }

  it('keeps 8 requests in flight by default', async () => {
    // 2,000 items: 80 requests of 25.
    expect(await peakInFlight(new RunStore(db, 'runs'), 2000)).toEqual({ peak: 8, requests: 80 });
  });

  it('keeps as many as the stage gives, at a large fleet', async () => {
    expect(await peakInFlight(new RunStore(db, 'runs', 32), 2000)).toEqual({ peak: 32, requests: 80 });
  });

  it('never more than there are requests', async () => {
    // 60 items: 3 requests, whatever the width.
    expect(await peakInFlight(new RunStore(db, 'runs', 32), 60)).toEqual({ peak: 3, requests: 3 });
  });
});

describe('the run steps wiring', () => {
  const stage = {
    DROVER_STAGE: 'ci',
    DROVER_NODES_TABLE: 'drover-ci-nodes',
    DROVER_RUNS_TABLE: 'drover-ci-runs',
    DROVER_REPLIES_QUEUE_URL: 'http://127.0.0.1:1/000000000000/drover-ci-replies',
  };
  afterEach(() => vi.unstubAllEnvs());

  /** A fresh wiring module (it keeps its stores per process, as a Lambda container does). */
  async function freshWiring(env: Record<string, string>) {
    for (const [key, value] of Object.entries({ ...stage, ...env })) vi.stubEnv(key, value);
    vi.resetModules();
    return (await import('#functions/run/wiring.ts')).wiring;
  }

  it("gives Plan's run store the writes in flight of its environment (serverless.yml sets them)", async () => {
    expect((await freshWiring({ DROVER_WRITES_IN_FLIGHT: '32' })).runs().writesInFlight).toBe(32);
  });

  it('keeps 8 where the environment sets none (every other run step)', async () => {
    expect((await freshWiring({})).runs().writesInFlight).toBe(8);
  });

  it('fails naming the variable when the environment holds a width out of range', async () => {
    const wiring = await freshWiring({ DROVER_SCAN_SEGMENTS: '0' });
    expect(() => wiring.nodes()).toThrow('DROVER_SCAN_SEGMENTS "0" must be a whole number from 1 to 32');
  });
});
