/**
 * Single-item reads and updates of the runs table on the plain DynamoDB client, for the reply
 * ledger: every reply costs at least one write, and the plain client skips the DocumentClient's
 * per-call (un)marshalling middleware. Values are plain JavaScript, marshalled here.
 */
import {
  GetItemCommand,
  paginateQuery,
  UpdateItemCommand,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { awsErrorName } from '../aws.ts';
import { groupSkPrefix } from '../runs-table.ts';

/** An update whose `values` are plain JavaScript, marshalled here. */
export type ItemUpdate = Omit<UpdateItemCommandInput, 'TableName' | 'Key' | 'ExpressionAttributeValues'> & {
  values?: Record<string, unknown>;
};

export class RunItems {
  constructor(
    private readonly db: DynamoDBClient,
    readonly table: string,
  ) {}

  /** A consistent read of one item: of only `fields` when given (what the caller needs). */
  async get<T>(runId: string, sk: string, fields?: readonly string[]): Promise<T | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ runId, sk }),
        ConsistentRead: true,
        ...(fields
          ? {
              ProjectionExpression: fields.map((_, i) => `#f${i}`).join(', '),
              ExpressionAttributeNames: Object.fromEntries(fields.map((f, i) => [`#f${i}`, f])),
            }
          : {}),
      }),
    );
    return out.Item ? (unmarshall(out.Item) as T) : undefined;
  }

  /** One UpdateItem; returns the item's attributes if asked for. */
  async update<T>(runId: string, sk: string, update: ItemUpdate): Promise<T | undefined> {
    const { values, ...rest } = update;
    const out = await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ runId, sk }),
        ...rest,
        ...(values ? { ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }) } : {}),
      }),
    );
    return out.Attributes ? (unmarshall(out.Attributes) as T) : undefined;
  }

  /**
   * Which dispatch group of `batch` each of its targets is in, from the group items in the run's
   * partition (read only for replies that name no group). One Query of every group item: a
   * filter on the targets would read (and bill) the same items, so the whole map costs no more
   * than finding one node, and the group items never change once the batch is dispatched.
   */
  async groupMembers(runId: string, batch: number): Promise<Map<string, number>> {
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: '#r = :r AND begins_with(#sk, :p)',
        ProjectionExpression: '#g, #ids',
        ExpressionAttributeNames: { '#r': 'runId', '#sk': 'sk', '#ids': 'nodeIds', '#g': 'group' },
        ExpressionAttributeValues: marshall({ ':r': runId, ':p': groupSkPrefix(batch) }),
        ConsistentRead: true,
      },
    );
    const members = new Map<string, number>();
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const { group, nodeIds } = unmarshall(item) as { group: number; nodeIds?: string[] };
        for (const nodeId of nodeIds ?? []) members.set(nodeId, Number(group));
      }
    }
    return members;
  }

  /** A conditional update: false when its condition did not hold, other errors thrown. */
  async updateIf(runId: string, sk: string, update: ItemUpdate): Promise<boolean> {
    try {
      await this.update(runId, sk, update);
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
