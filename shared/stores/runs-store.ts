/**
 * The runs table: one module for every read (RunReader, runs-reads.ts) and write the project makes
 * on it, so the run steps read as domain code and tests run them against the local DynamoDB. The
 * reply ledger's hot path writes through `RunItems` (runs-items.ts) on the plain client instead.
 */
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { awsErrorName } from '../aws.ts';
import {
  META_SK,
  nodeSk,
  type NodeStatus,
  batchSk,
  groupPk,
  groupSk,
  type GroupItem,
  type NodeRunItem,
  type RunMetaItem,
} from '../runs-table.ts';
import { closingMove, moveCondition, UNCHANGED } from './node-moves.ts';
import { RunReader } from './runs-reads.ts';
import { untilProcessed } from './retry.ts';
import { WRITES_IN_FLIGHT } from '../large-fleet.ts';

/** BatchWriteItem's limit: at most 25 puts or deletes a request. */
export const BATCH_WRITE_MAX_ITEMS = 25;
export class RunStore extends RunReader {
  /**
   * `writesInFlight`: BatchWriteItem requests in flight at once when writing many items (Plan's
   * node items), 8 unless the stage widens it (shared/large-fleet.ts; at most 32); never more
   * than there are requests.
   */
  constructor(
    db: DynamoDBDocumentClient,
    table: string,
    readonly writesInFlight: number = WRITES_IN_FLIGHT.standard,
  ) {
    super(db, table);
  }

  /**
   * Writes a run's record unless a run of that id exists from another execution; returns whether
   * it wrote. A retry of the same execution's Plan (same `executionStart`) writes it again.
   */
  async putMeta(meta: RunMetaItem): Promise<boolean> {
    return this.#conditional(() =>
      this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: meta,
          ConditionExpression: 'attribute_not_exists(runId) OR executionStart = :start',
          ExpressionAttributeValues: { ':start': meta.executionStart ?? null },
        }),
      ),
    );
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
    const limit = pLimit(this.writesInFlight);
    const chunks: Record<string, unknown>[][] = [];
    for (let i = 0; i < items.length; i += BATCH_WRITE_MAX_ITEMS)
      chunks.push(items.slice(i, i + BATCH_WRITE_MAX_ITEMS));
    await Promise.all(chunks.map((chunk) => limit(() => this.#writeChunk(chunk))));
  }

  async #writeChunk(chunk: Record<string, unknown>[]): Promise<void> {
    type Put = { PutRequest: { Item: Record<string, unknown> } };
    const requests: Put[] = chunk.map((Item) => ({ PutRequest: { Item } }));
    await untilProcessed(`writing ${this.table}`, requests, async (pending) => {
      const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
      return (out.UnprocessedItems?.[this.table] ?? []) as Put[];
    });
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
    return this.getNodes(groupPk(runId, batch, group), item.nodeIds);
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

  /**
   * Moves a node from `from` to `to` unless a reply moved it first; returns whether it moved.
   * Used when a batch gives up on hosts. `pk`: the node item's partition key (its `runId`).
   */
  async closeNode(pk: string, nodeId: string, from: NodeStatus, to: NodeStatus): Promise<boolean> {
    const condition = moveCondition(closingMove(from, to), [from], to);
    return this.#conditional(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { runId: pk, sk: nodeSk(nodeId) },
          UpdateExpression: 'SET #status = :to, #closed = :closed',
          ConditionExpression: condition.ConditionExpression,
          ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, '#closed': 'closed' },
          ExpressionAttributeValues: { ...condition.values, ':to': to, ':closed': true },
        }),
      ),
    );
  }

  /**
   * Finish counts a closed node as `status`: seals it, unless a reply changed it first (then
   * returns false, and Finish reads it again). A reply after the seal is recorded `late` and marked
   * as recorded after the summary, so the summary and the hosts it lists never disagree.
   * `pk`: the node item's partition key (its `runId`).
   */
  async sealNode(pk: string, nodeId: string, status: NodeStatus): Promise<boolean> {
    const condition = moveCondition('seal', [status], UNCHANGED);
    return this.#conditional(() =>
      this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { runId: pk, sk: nodeSk(nodeId) },
          UpdateExpression: 'SET #sealed = :sealed',
          ConditionExpression: condition.ConditionExpression,
          ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, '#sealed': 'sealed' },
          ExpressionAttributeValues: { ...condition.values, ':sealed': true },
        }),
      ),
    );
  }

  /** Sends a conditional write; false when its condition did not hold. */
  async #conditional(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
