/**
 * The runs table behind a small interface, so the run steps read as domain code and tests can
 * run them against the local DynamoDB.
 */
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { getRunMeta, getRunNodes, queryRunNodes } from '#shared/run-reader.ts';
import { IllegalNodeMove, isNodeMove } from './reply-transitions.ts';
import { awsErrorName } from '#shared/aws.ts';
import {
  META_SK,
  nodeSk,
  type NodeStatus,
  batchSk,
  groupSk,
  type BatchItem,
  type GroupItem,
  type NodeRunItem,
  type RunMetaItem,
} from '#shared/runs-table.ts';

export class RunStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /**
   * Writes a run's record unless a run of that id exists from another execution; returns whether
   * it wrote. A retry of the same execution's Plan (same `executionStart`) writes it again.
   */
  async putMeta(meta: RunMetaItem): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: meta,
          ConditionExpression: 'attribute_not_exists(runId) OR executionStart = :start',
          ExpressionAttributeValues: { ':start': meta.executionStart ?? null },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Sets top-level attributes of the meta item. */
  async updateMeta(runId: string, values: Partial<RunMetaItem>): Promise<void> {
    const entries = Object.entries(values).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return;
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { runId, sk: META_SK },
        UpdateExpression: 'SET ' + entries.map((_, i) => `#k${i} = :v${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#k${i}`, k])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, v], i) => [`:v${i}`, v])),
      }),
    );
  }

  /** Writes items in batches of 25 with bounded parallelism, retrying unprocessed ones. */
  async putMany(items: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const limit = pLimit(8);
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    await Promise.all(chunks.map((chunk) => limit(() => this.#writeChunk(chunk))));
  }

  async #writeChunk(chunk: Record<string, unknown>[]): Promise<void> {
    let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 8) throw new Error(`could not write ${requests.length} items to ${this.table}`);
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: requests } }));
      requests = (out.UnprocessedItems?.[this.table] ?? []) as typeof requests;
    }
  }

  async getNode(runId: string, nodeId: string): Promise<NodeRunItem | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { runId, sk: nodeSk(nodeId) }, ConsistentRead: true }),
    );
    return out.Item as NodeRunItem | undefined;
  }

  async getBatch(runId: string, batch: number): Promise<BatchItem | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { runId, sk: batchSk(batch) }, ConsistentRead: true }),
    );
    return out.Item as BatchItem | undefined;
  }

  /**
   * Records when the batch was sent: the latest of its dispatch groups' times, so the
   * acknowledgement window (measured from it) is never shorter for a group sent last, whose
   * requests are valid that much longer. A group sent earlier, or again, changes nothing.
   */
  async markBatchDispatched(runId: string, batch: number, at: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { runId, sk: batchSk(batch) },
          UpdateExpression: 'SET dispatchedAt = :at',
          ConditionExpression:
            'attribute_exists(runId) AND (attribute_not_exists(dispatchedAt) OR dispatchedAt < :at)',
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
      if (!(await this.getBatch(runId, batch))) {
        throw new Error(`run ${runId} has no batch ${batch}`, { cause: error });
      }
    }
  }

  /** Records when the run's first request went out; a later dispatch (another group) keeps it. */
  async markFirstDispatch(runId: string, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { runId, sk: META_SK },
        UpdateExpression: 'SET firstDispatchAt = if_not_exists(firstDispatchAt, :at)',
        ConditionExpression: 'attribute_exists(runId)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  /** The node items of one dispatch group of a batch (Plan wrote the group's node ids). */
  async groupNodes(runId: string, batch: number, group: number): Promise<NodeRunItem[]> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { runId, sk: groupSk(batch, group) },
        ConsistentRead: true,
      }),
    );
    const item = out.Item as GroupItem | undefined;
    if (!item) throw new Error(`run ${runId} has no dispatch group ${group} in batch ${batch}`);
    return getRunNodes(this.db, this.table, runId, item.nodeIds);
  }

  /**
   * Moves a node from `from` to `to` unless a reply moved it first; returns whether it moved.
   * Used when a batch gives up on hosts.
   */
  async closeNode(runId: string, nodeId: string, from: NodeStatus, to: NodeStatus): Promise<boolean> {
    if (!isNodeMove(from, to, true)) {
      throw new IllegalNodeMove(`a step may not give up on a node by moving it from ${from} to ${to}`);
    }
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { runId, sk: nodeSk(nodeId) },
          UpdateExpression: 'SET #s = :to, #closed = :true',
          ConditionExpression: '#s = :from',
          ExpressionAttributeNames: { '#s': 'status', '#closed': 'closed' },
          ExpressionAttributeValues: { ':to': to, ':from': from, ':true': true },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** Records when the batch's acknowledgement window closed (the first record stands). */
  async markAckWindowEnd(runId: string, batch: number, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { runId, sk: batchSk(batch) },
        UpdateExpression: 'SET ackWindowEndsAt = if_not_exists(ackWindowEndsAt, :at)',
        ConditionExpression: 'attribute_exists(runId)',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  /**
   * Finish counts a closed node as `status`: seals it, unless a reply changed it first (then
   * returns false, and Finish reads it again). A reply after the seal is recorded `late` and marked
   * as recorded after the summary, so the summary and the hosts it lists never disagree.
   */
  async sealNode(runId: string, nodeId: string, status: NodeStatus): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { runId, sk: nodeSk(nodeId) },
          UpdateExpression: 'SET #sealed = :true',
          ConditionExpression: '#s = :status',
          ExpressionAttributeNames: { '#s': 'status', '#sealed': 'sealed' },
          ExpressionAttributeValues: { ':status': status, ':true': true },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async markBatchClosed(runId: string, batch: number, at: number): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { runId, sk: batchSk(batch) },
        UpdateExpression: 'SET closedAt = :at REMOVE ackToken, resultToken',
        ExpressionAttributeValues: { ':at': at },
      }),
    );
  }

  async getMeta(runId: string): Promise<RunMetaItem | undefined> {
    return getRunMeta(this.db, this.table, runId);
  }

  queryNodes(runId: string, options: { batch?: number; withOutput?: boolean } = {}): Promise<NodeRunItem[]> {
    return queryRunNodes(this.db, this.table, runId, options);
  }
}
