/**
 * The table stores' paging and retry: every page of a query or scan is followed (the SDK's
 * paginators), BatchGet asks at most 100 keys and BatchWrite at most 25 items a request (DynamoDB's
 * limits), what DynamoDB leaves unprocessed is retried, and a table that never catches up fails
 * with a named error instead of looping for ever.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { RunStore } from '#shared/stores/runs-store.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import {
  retryDelayMs,
  UNPROCESSED_RETRIES,
  UnprocessedItemsError,
  untilProcessed,
} from '#shared/stores/retry.ts';
import { nodeSk } from '#shared/runs-table.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const runs = new RunStore(db, 'runs');

beforeEach(() => ddb.reset());

describe('untilProcessed (the stores’ one retry policy)', () => {
  it('calls again with what was left until nothing is', async () => {
    const seen: number[][] = [];
    const waits: number[] = [];
    await untilProcessed(
      'test',
      [1, 2, 3],
      async (pending) => {
        seen.push(pending);
        return pending.slice(1);
      },
      async (ms) => void waits.push(ms),
    );
    expect(seen).toEqual([[1, 2, 3], [2, 3], [3]]);
    expect(waits).toHaveLength(2);
  });

  it('gives up with UnprocessedItemsError after its retries, naming what and how many', async () => {
    let calls = 0;
    const error = await untilProcessed(
      'writing runs',
      ['a', 'b'],
      async (pending) => (calls++, pending),
      async () => undefined,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnprocessedItemsError);
    expect(error).toMatchObject({ name: 'UnprocessedItemsError', what: 'writing runs', left: 2 });
    expect(calls).toBe(UNPROCESSED_RETRIES + 1);
  });

  it('backs off exponentially, capped, with jitter in the upper half', () => {
    expect(retryDelayMs(1, () => 0)).toBe(20);
    expect(retryDelayMs(1, () => 1)).toBe(40);
    expect(retryDelayMs(3, () => 1)).toBe(160);
    expect(retryDelayMs(30, () => 1)).toBe(2_000);
  });
});

describe('RunReader / RunStore', () => {
  it('follows every page of a run’s node query', async () => {
    // The paginator reuses one input object for every page: record what each call carried.
    const starts: unknown[] = [];
    const pages = [['a', 'b'], ['c']];
    // A run planned before its node items had partitions of their own: no batch items, one query.
    ddb.on(GetCommand).resolves({ Item: { runId: 'r', sk: 'meta', batchCount: 1 } });
    ddb.on(BatchGetCommand).resolves({ Responses: { runs: [] } });
    ddb.on(QueryCommand).callsFake((input: { ExclusiveStartKey?: unknown; ConsistentRead?: boolean }) => {
      expect(input.ConsistentRead).toBe(true);
      starts.push(input.ExclusiveStartKey);
      const page = pages[starts.length - 1]!;
      const last = starts.length < 3 ? { LastEvaluatedKey: { runId: 'r', sk: nodeSk(page.at(-1)!) } } : {};
      return { Items: starts.length < 3 ? page.map((nodeId) => ({ nodeId })) : [], ...last };
    });
    const nodes = await runs.queryNodes('r');
    expect(nodes.map((n) => n.nodeId)).toEqual(['a', 'b', 'c']);
    expect(starts).toEqual([undefined, { runId: 'r', sk: nodeSk('b') }, { runId: 'r', sk: nodeSk('c') }]);
  });

  it('reads many nodes 100 keys a request, retrying the keys DynamoDB left unprocessed', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `n${i}`);
    let first = true;
    ddb
      .on(BatchGetCommand)
      .callsFake((input: { RequestItems: Record<string, { Keys: { sk: string }[] }> }) => {
        const keys = input.RequestItems.runs!.Keys;
        const left = first ? keys.slice(90) : [];
        first = false;
        const done = keys.slice(0, keys.length - left.length);
        return {
          Responses: { runs: done.map((k) => ({ nodeId: k.sk.slice(5) })) },
          ...(left.length ? { UnprocessedKeys: { runs: { Keys: left } } } : {}),
        };
      });
    const found = await runs.getNodes('r', ids);
    expect(found.map((n) => n.nodeId).sort()).toEqual([...ids].sort());
    const sizes = ddb
      .commandCalls(BatchGetCommand)
      .map((c) => c.args[0].input.RequestItems!.runs!.Keys!.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes).toEqual([100, 10, 100, 50]);
  });

  it('writes many items 25 a request, retrying unprocessed ones', async () => {
    let first = true;
    ddb.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
      const requests = input.RequestItems.runs!;
      const left = first ? requests.slice(20) : [];
      first = false;
      return left.length ? { UnprocessedItems: { runs: left } } : {};
    });
    await runs.putMany(Array.from({ length: 60 }, (_, i) => ({ runId: 'r', sk: nodeSk(`n${i}`) })));
    const sizes = ddb.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!.runs!.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(25);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(60 + 5);
  });
});

describe('NodesStore', () => {
  it('reads members without their facts, every page of every segment', async () => {
    const seen: { segment: number; total: number; start: unknown; names: string[] }[] = [];
    ddb
      .on(ScanCommand)
      .callsFake(
        (input: {
          Segment: number;
          TotalSegments: number;
          ExclusiveStartKey?: unknown;
          ExpressionAttributeNames?: Record<string, string>;
        }) => {
          seen.push({
            segment: input.Segment,
            total: input.TotalSegments,
            start: input.ExclusiveStartKey,
            names: Object.values(input.ExpressionAttributeNames ?? {}),
          });
          const id = `s${input.Segment}`;
          return input.ExclusiveStartKey
            ? { Items: [{ nodeId: `${id}-2` }] }
            : { Items: [{ nodeId: `${id}-1` }], LastEvaluatedKey: { nodeId: `${id}-1` } };
        },
      );
    const members = await new NodesStore(db, 'nodes', 2).members();
    expect(members.map((m) => m.nodeId).sort()).toEqual(['s0-1', 's0-2', 's1-1', 's1-2']);
    expect(seen).toHaveLength(4);
    expect(seen.filter((s) => s.start !== undefined)).toHaveLength(2);
    for (const scan of seen) {
      expect(scan.total).toBe(2);
      expect(scan.names).toContain('lastSeen');
      expect(scan.names).not.toContain('facts');
    }
  });

  it('counts every node, page after page', async () => {
    ddb
      .on(ScanCommand)
      .callsFake((input: { Segment: number; Select?: string; ExclusiveStartKey?: unknown }) => {
        expect(input.Select).toBe('COUNT');
        return input.ExclusiveStartKey ? { Count: 2 } : { Count: 3, LastEvaluatedKey: { nodeId: 'x' } };
      });
    expect(await new NodesStore(db, 'nodes', 2).count()).toBe(5);
  });

  it('reads a node’s facts with a projection, and nothing for an unknown node', async () => {
    ddb.on(GetCommand).callsFake((input: { Key: { nodeId: string }; ProjectionExpression?: string }) => {
      expect(input.ProjectionExpression).toBe('facts');
      return input.Key.nodeId === 'web-1' ? { Item: { facts: { group: 'web' } } } : {};
    });
    const nodes = new NodesStore(db, 'nodes');
    expect(await nodes.factsOf('web-1')).toEqual({ group: 'web' });
    expect(await nodes.factsOf('nope')).toBeUndefined();
  });
});
