/**
 * Reads of the runs table, shared by the control plane and the CLI: a run's meta item, its
 * batches and its node items (with or without their output), by the SDK's paginators. Node items
 * are in one partition per dispatch group (shared/runs-table.ts `groupPk`): every read of a run's
 * nodes queries its groups' partitions, a few at once. `RunStore` (runs-store.ts) adds the writes.
 */
import {
  BatchGetCommand,
  GetCommand,
  paginateQuery,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  META_SK,
  NODE_SK_PREFIX,
  RESULTS_INDEX,
  batchSk,
  groupPk,
  nodeSk,
  tallySk,
  type BatchItem,
  type TallyItem,
  type NodeRunItem,
  type RunMetaItem,
} from '../runs-table.ts';
import pLimit from 'p-limit';
import { untilProcessed } from './retry.ts';

/** Node item attributes except the (large) output streams. */
const NODE_FIELDS_WITHOUT_OUTPUT = [
  'runId',
  'run',
  'sk',
  'nodeId',
  'identity',
  'batch',
  'group',
  'inbox',
  'status',
  'closed',
  'lateAs',
  'lateAfterSummary',
  'exitCode',
  'signal',
  'timedOut',
  'reason',
  'error',
  'ackedAt',
  'startedAt',
  'endedAt',
  'resultAt',
  'expiresAt',
] as const;

/** BatchGetItem's limit: at most 100 keys a request. */
export const BATCH_GET_MAX_KEYS = 100;

/** Partitions of a run (one per dispatch group) read at once. */
const PARTITION_READS = 8;
/** Runs whose partitions a reader remembers (they never change once Plan wrote them). */
const REMEMBERED_RUNS = 64;

/** A node item's key in the results index, and when its result landed. */
export interface LandedKey {
  nodeId: string;
  resultAt: number;
  /** The node item's partition key (its group's). */
  pk: string;
}

export interface NodeQuery {
  /** Only the nodes of this batch. */
  batch?: number;
  /** With their stdout/stderr (off by default: they can be large). */
  withOutput?: boolean;
}

type Key = Record<string, unknown>;

export class RunReader {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  async getMeta(runId: string): Promise<RunMetaItem | undefined> {
    return this.#get<RunMetaItem>({ runId, sk: META_SK }, true);
  }

  /** Meta items of many runs by id (eventually consistent, as a listing may be). */
  async getMetas(runIds: readonly string[]): Promise<Map<string, RunMetaItem>> {
    const items = await this.#batchGet<RunMetaItem>(
      runIds.map((runId) => ({ runId, sk: META_SK })),
      false,
    );
    return new Map(items.map((item) => [item.runId, item]));
  }

  async getBatch(runId: string, batch: number, consistent = true): Promise<BatchItem | undefined> {
    return this.#get<BatchItem>({ runId, sk: batchSk(batch) }, consistent);
  }

  /** A node item by its partition key (`pk`: the node item's `runId`, its group's) and node id. */
  async getNode(pk: string, nodeId: string): Promise<NodeRunItem | undefined> {
    return this.#get<NodeRunItem>({ runId: pk, sk: nodeSk(nodeId) }, true);
  }

  readonly #partitions = new Map<string, string[]>();

  /**
   * The partitions holding a run's node items (or one batch's): one per dispatch group, as the
   * batch items count them, and the run's own (where runs planned before groups keep them).
   */
  async nodePartitions(runId: string, batch?: number): Promise<string[]> {
    const known = this.#partitions.get(runId);
    if (known)
      return batch === undefined ? known : known.filter((pk) => pk === runId || inBatch(pk, runId, batch));
    const batches =
      batch !== undefined
        ? [batch]
        : Array.from({ length: (await this.getMeta(runId))?.batchCount ?? 0 }, (_, b) => b);
    const items = await this.#batchGet<BatchItem>(
      batches.map((b) => ({ runId, sk: batchSk(b) })),
      true,
    );
    const pks = [runId];
    for (const item of items.sort((x, y) => x.batch - y.batch)) {
      for (let group = 0; group < (item.groupCount ?? 1); group++)
        pks.push(groupPk(runId, item.batch, group));
    }
    // Plan writes the run's record before its batches: remember the run only once all are there.
    if (batch === undefined && items.length === batches.length && batches.length > 0) {
      if (this.#partitions.size >= REMEMBERED_RUNS)
        this.#partitions.delete(this.#partitions.keys().next().value!);
      this.#partitions.set(runId, pks);
    }
    return pks;
  }

  /** All node items of a run (optionally one batch), without their output unless asked. */
  async queryNodes(runId: string, options: NodeQuery = {}): Promise<NodeRunItem[]> {
    const pks = await this.nodePartitions(runId, options.batch);
    const limit = pLimit(PARTITION_READS);
    const parts = await Promise.all(pks.map((pk) => limit(() => this.#queryPartition(pk, options))));
    // In node id order, as one partition's query returns them.
    return parts.flat().sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
  }

  async #queryPartition(pk: string, options: NodeQuery): Promise<NodeRunItem[]> {
    const names: Record<string, string> = { '#r': 'runId', '#sk': 'sk' };
    const values: Record<string, unknown> = { ':r': pk, ':p': NODE_SK_PREFIX };
    let filter: string | undefined;
    if (options.batch !== undefined) {
      names['#b'] = 'batch';
      values[':b'] = options.batch;
      filter = '#b = :b';
    }
    let projection: string | undefined;
    if (!options.withOutput) {
      NODE_FIELDS_WITHOUT_OUTPUT.forEach((field, i) => (names[`#p${i}`] = field));
      projection = NODE_FIELDS_WITHOUT_OUTPUT.map((_, i) => `#p${i}`).join(', ');
    }
    return (await this.#query({
      KeyConditionExpression: '#r = :r AND begins_with(#sk, :p)',
      FilterExpression: filter,
      ProjectionExpression: projection,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ConsistentRead: true,
    })) as unknown as NodeRunItem[];
  }

  /** The tallies (answer counts) of some dispatch groups of a batch, consistent, 100 keys a request. */
  async getTallies(runId: string, batch: number, groups: readonly number[]): Promise<TallyItem[]> {
    return this.#batchGet<TallyItem>(
      groups.map((group) => ({ runId: groupPk(runId, batch, group), sk: tallySk(batch, group) })),
      true,
    );
  }

  /**
   * The full node items (with output) of some nodes of one partition (`pk`: their group's), 100
   * keys a request.
   */
  async getNodes(pk: string, nodeIds: readonly string[]): Promise<NodeRunItem[]> {
    return this.#batchGet<NodeRunItem>(
      nodeIds.map((id) => ({ runId: pk, sk: nodeSk(id) })),
      true,
    );
  }

  /**
   * Node items of a run whose result (or rejection) landed at `sinceMs` or later, keys only, from
   * the sparse results index: a watcher's read costs what landed since, not the size of the run.
   * The index is eventually consistent: re-read a little before the last landing seen, and read
   * the run whole once at its end.
   */
  async landedSince(runId: string, sinceMs: number): Promise<LandedKey[]> {
    // The index is keyed like the table: one query per partition of the run (one per group).
    const limit = pLimit(PARTITION_READS);
    const pks = await this.nodePartitions(runId);
    const parts = await Promise.all(
      pks.map((pk) =>
        limit(() =>
          this.#query({
            IndexName: RESULTS_INDEX,
            KeyConditionExpression: '#r = :r AND #at >= :since',
            ExpressionAttributeNames: { '#r': 'runId', '#at': 'resultAt' },
            ExpressionAttributeValues: { ':r': pk, ':since': sinceMs },
          }),
        ),
      ),
    );
    return parts.flat().flatMap((item) => {
      const sk = String(item.sk);
      return sk.startsWith(NODE_SK_PREFIX)
        ? [
            {
              nodeId: sk.slice(NODE_SK_PREFIX.length),
              resultAt: Number(item.resultAt),
              pk: String(item.runId),
            },
          ]
        : [];
    });
  }

  async #get<T>(Key: Key, consistent: boolean): Promise<T | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key, ConsistentRead: consistent }),
    );
    return out.Item as T | undefined;
  }

  async #query(input: Omit<QueryCommandInput, 'TableName'>): Promise<Key[]> {
    const items: Key[] = [];
    for await (const page of paginateQuery({ client: this.db }, { TableName: this.table, ...input })) {
      items.push(...(page.Items ?? []));
    }
    return items;
  }

  /** BatchGetItem, 100 keys a request, unprocessed keys retried by the stores' one policy. */
  async #batchGet<T>(keys: readonly Key[], consistent: boolean): Promise<T[]> {
    const found: T[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) {
      await untilProcessed(`reading ${this.table}`, keys.slice(i, i + BATCH_GET_MAX_KEYS), async (Keys) => {
        const out = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys, ConsistentRead: consistent } } }),
        );
        found.push(...((out.Responses?.[this.table] ?? []) as T[]));
        return (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Key[];
      });
    }
    return found;
  }
}

/** Whether partition `pk` is one of batch `batch`'s groups in run `runId`. */
function inBatch(pk: string, runId: string, batch: number): boolean {
  return pk.startsWith(groupPk(runId, batch, 0).slice(0, -4));
}
