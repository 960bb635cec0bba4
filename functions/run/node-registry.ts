/** Heartbeats into the nodes table: one upsert per heartbeat, `joinedAt` kept from the first. */
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HeartbeatReply } from '#shared/messages.ts';

/** How long a silent node's record is kept before the table's TTL removes it. */
export const NODE_RECORD_TTL_SEC = 7 * 86_400;

export class NodeRegistry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /** Records a heartbeat; returns true when the node was not known before (it just joined). */
  async recordHeartbeat(hb: HeartbeatReply, now: number): Promise<boolean> {
    // The Auto Scaling group, when the agent found one (EC2 tag), for lifecycle hooks and `find`.
    const asg = typeof hb.facts.asg === 'string' && hb.facts.asg !== '' ? hb.facts.asg : undefined;
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { nodeId: hb.nodeId },
        UpdateExpression:
          'SET #identity = :identity, #facts = :facts, #classes = :classes, #inbox = :inbox, ' +
          '#agentVersion = :version, #heartbeatSec = :hb, #lastSeen = :now, #startedAt = :started, ' +
          '#expiresAt = :exp, #joinedAt = if_not_exists(#joinedAt, :now)' +
          (asg ? ', #asg = :asg' : ''),
        // Attribute names go through placeholders: `identity` is a DynamoDB reserved word.
        ExpressionAttributeNames: Object.fromEntries(
          [
            'identity',
            'facts',
            'classes',
            'inbox',
            'agentVersion',
            'heartbeatSec',
            'lastSeen',
            'startedAt',
            'expiresAt',
            'joinedAt',
            ...(asg ? ['asg'] : []),
          ].map((name) => [`#${name}`, name]),
        ),
        ExpressionAttributeValues: {
          ':identity': hb.identity,
          ':facts': hb.facts,
          ':classes': hb.classes,
          ':inbox': hb.inbox,
          ':version': hb.agentVersion,
          ':hb': hb.heartbeatSec,
          ':now': now,
          ':started': hb.startedAt,
          ':exp': Math.floor(now / 1000) + NODE_RECORD_TTL_SEC,
          ...(asg ? { ':asg': asg } : {}),
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return out.Attributes?.joinedAt === undefined;
  }
}
