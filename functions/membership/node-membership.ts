/**
 * Membership writes on the nodes table: the reaper marking silent nodes lost and EC2 state
 * changes marking nodes stopped or terminated. Each write is conditional, so it never overrides
 * a heartbeat that landed in between, and the same event applied twice changes nothing.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The attributes membership decisions need (the scan reads only these, not the facts). */
export interface MemberRecord {
  nodeId: string;
  identity: string;
  lastSeen: number;
  heartbeatSec: number;
  status?: string;
  asg?: string;
  inbox?: string;
}

export class NodeMembership {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /** Every node, without its facts. */
  async members(): Promise<MemberRecord[]> {
    const names = ['nodeId', 'identity', 'lastSeen', 'heartbeatSec', 'status', 'asg', 'inbox'];
    const items: MemberRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          ProjectionExpression: names.map((n) => `#${n}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(names.map((n) => [`#${n}`, n])),
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((out.Items ?? []) as MemberRecord[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * Marks a node lost, unless it heartbeated since it was read (`lastSeen` moved) or is no longer
   * active. Returns whether this call marked it.
   */
  async markLost(node: MemberRecord, now: number, reason: string): Promise<boolean> {
    return this.#conditional({
      TableName: this.table,
      Key: { nodeId: node.nodeId },
      UpdateExpression: 'SET #status = :lost, #statusAt = :now, #statusReason = :why',
      ConditionExpression: '#lastSeen = :seen AND (attribute_not_exists(#status) OR #status = :active)',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#statusAt': 'statusAt',
        '#statusReason': 'statusReason',
        '#lastSeen': 'lastSeen',
      },
      ExpressionAttributeValues: {
        ':lost': 'lost',
        ':active': 'active',
        ':now': now,
        ':why': reason,
        ':seen': node.lastSeen,
      },
    });
  }

  /**
   * Marks a known node `stopped` or `terminated` as of `at` (the EC2 event's time). A terminated
   * node stays terminated; an unknown instance (another stage's, or never an agent) is left alone.
   * Returns the node as it was, or undefined when nothing changed.
   */
  async markInstanceState(
    nodeId: string,
    state: 'stopped' | 'terminated',
    at: number,
  ): Promise<MemberRecord | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { nodeId },
          UpdateExpression: 'SET #status = :state, #statusAt = :at, #statusReason = :why',
          ConditionExpression:
            'attribute_exists(#nodeId) AND (attribute_not_exists(#status) OR ' +
            '(#status <> :terminated AND #status <> :state))',
          ExpressionAttributeNames: {
            '#nodeId': 'nodeId',
            '#status': 'status',
            '#statusAt': 'statusAt',
            '#statusReason': 'statusReason',
          },
          ExpressionAttributeValues: {
            ':state': state,
            ':terminated': 'terminated',
            ':at': at,
            ':why': `instance ${state}`,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes as MemberRecord | undefined;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async #conditional(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand(input));
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
