/**
 * A run's node items spread over one partition per dispatch group (`groupPk`), and every reader
 * of them reads all of its groups: RunReader's queries, the results index, and the writes that
 * give up on hosts. Runs planned before the spread keep their node items in the run's partition
 * and are read there as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newRunId } from '#shared/ids.ts';
import { META_SK, groupPk, nodeSk } from '#shared/runs-table.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { runMetaItem } from '../helpers/factories.ts';
import { seedBatch } from '../helpers/run-seed.ts';
import { eventually } from '../helpers/wait.ts';

let t: TestStack;
let table: string;

beforeAll(async () => {
  t = await startTestStack();
  table = t.stack.file.runsTable;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

/** A run of two batches: batch 0 has web-1…web-5 in groups of 2 (three groups), batch 1 web-6. */
async function seedRun(runId: string): Promise<void> {
  await t.db.send(
    new PutCommand({
      TableName: table,
      Item: runMetaItem({ runId, sk: META_SK, expected: 6, batchCount: 2 }),
    }),
  );
  await seedBatch(t.db, table, runId, ['web-1', 'web-2', 'web-3', 'web-4', 'web-5'], {
    groupSize: 2,
    dispatchedAt: 1,
  });
  await seedBatch(t.db, table, runId, ['web-6'], { batch: 1, groupSize: 2 });
}

async function land(pk: string, nodeId: string, at: number): Promise<void> {
  await t.db.send(
    new UpdateCommand({
      TableName: table,
      Key: { runId: pk, sk: nodeSk(nodeId) },
      UpdateExpression: 'SET #s = :s, resultAt = :at, exitCode = :zero',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': 'succeeded', ':at': at, ':zero': 0 },
    }),
  );
}

describe('a run spread over its groups', () => {
  it('keeps each group its own partition, with the run id beside it', async () => {
    const runId = newRunId();
    await seedRun(runId);
    const runs = new RunStore(t.db, table);

    expect(await runs.nodePartitions(runId)).toEqual([
      runId,
      groupPk(runId, 0, 0),
      groupPk(runId, 0, 1),
      groupPk(runId, 0, 2),
      groupPk(runId, 1, 0),
    ]);
    const web5 = await runs.getNode(groupPk(runId, 0, 2), 'web-5');
    expect(web5).toMatchObject({ runId: groupPk(runId, 0, 2), run: runId, batch: 0, group: 2 });
    // Nothing of the run's nodes is left in the run's own partition.
    expect(await runs.getNode(runId, 'web-5')).toBeUndefined();
  });

  it('reads every node of the run, or of one batch, across the partitions, in node id order', async () => {
    const runId = newRunId();
    await seedRun(runId);
    const runs = new RunStore(t.db, table);

    const all = await runs.queryNodes(runId);
    const first = await runs.queryNodes(runId, { batch: 0 });
    const second = await runs.queryNodes(runId, { batch: 1 });

    expect(all.map((n) => n.nodeId)).toEqual(['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6']);
    expect(first.map((n) => n.nodeId)).toEqual(['web-1', 'web-2', 'web-3', 'web-4', 'web-5']);
    expect(second.map((n) => [n.nodeId, n.runId])).toEqual([['web-6', groupPk(runId, 1, 0)]]);
  });

  it('finds what landed since a time in every partition of the results index', async () => {
    const runId = newRunId();
    await seedRun(runId);
    const runs = new RunStore(t.db, table);
    await land(groupPk(runId, 0, 0), 'web-1', 1_000);
    await land(groupPk(runId, 0, 2), 'web-5', 2_000);
    await land(groupPk(runId, 1, 0), 'web-6', 3_000);

    // The index is eventually consistent (the local one too): read until it has all three.
    const landed = await eventually(async () => {
      const found = await runs.landedSince(runId, 1_500);
      return found.length === 2 ? found : undefined;
    });

    expect(landed.sort((a, b) => a.resultAt - b.resultAt)).toEqual([
      { nodeId: 'web-5', resultAt: 2_000, pk: groupPk(runId, 0, 2) },
      { nodeId: 'web-6', resultAt: 3_000, pk: groupPk(runId, 1, 0) },
    ]);
    const full = await runs.getNodes(groupPk(runId, 0, 2), ['web-5']);
    expect(full).toMatchObject([{ nodeId: 'web-5', status: 'succeeded', exitCode: 0 }]);
  });

  it('gives up on a host in its own partition, through the key its item carries', async () => {
    const runId = newRunId();
    await seedRun(runId);
    const runs = new RunStore(t.db, table);
    const [web3] = (await runs.queryNodes(runId)).filter((n) => n.nodeId === 'web-3');

    expect(await runs.closeNode(web3!.runId, 'web-3', 'pending', 'no_response')).toBe(true);
    expect(await runs.getNode(groupPk(runId, 0, 1), 'web-3')).toMatchObject({
      status: 'no_response',
      closed: true,
    });
    expect(await runs.sealNode(web3!.runId, 'web-3', 'no_response')).toBe(true);
  });

  it('still reads a run planned before the spread, whose nodes are in the run partition', async () => {
    const runId = newRunId();
    await t.db.send(
      new PutCommand({ TableName: table, Item: runMetaItem({ runId, sk: META_SK, batchCount: 1 }) }),
    );
    await t.db.send(
      new PutCommand({
        TableName: table,
        Item: {
          runId,
          sk: nodeSk('old-1'),
          nodeId: 'old-1',
          batch: 0,
          status: 'succeeded',
          resultAt: 5,
          expiresAt: 0,
        },
      }),
    );
    const runs = new RunStore(t.db, table);

    expect((await runs.queryNodes(runId)).map((n) => [n.nodeId, n.runId])).toEqual([['old-1', runId]]);
    const landed = await eventually(async () => {
      const found = await runs.landedSince(runId, 0);
      return found.length === 1 ? found : undefined;
    });
    expect(landed).toEqual([{ nodeId: 'old-1', resultAt: 5, pk: runId }]);
  });
});
