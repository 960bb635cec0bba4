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
   * The dispatch group of `batch` whose targets include `nodeId`, from the group items in the run's
   * partition (a Query filtered on the target lists: read only for a reply that names no group).
   */
  async findGroup(runId: string, batch: number, nodeId: string): Promise<number | undefined> {
    const pages = paginateQuery(
      { client: this.db },
      {
        TableName: this.table,
        KeyConditionExpression: '#r = :r AND begins_with(#sk, :p)',
        FilterExpression: 'contains(#ids, :id)',
        ProjectionExpression: '#g',
        ExpressionAttributeNames: { '#r': 'runId', '#sk': 'sk', '#ids': 'nodeIds', '#g': 'group' },
        ExpressionAttributeValues: marshall({ ':r': runId, ':p': groupSkPrefix(batch), ':id': nodeId }),
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      const found = page.Items?.[0];
      if (found) return Number(unmarshall(found).group);
    }
    return undefined;
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
