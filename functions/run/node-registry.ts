/**
 * Heartbeats into the nodes table: one upsert per heartbeat, `joinedAt` kept from the first, facts
 * rewritten only when their hash changed.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HeartbeatReply } from '#shared/messages.ts';
import { nodeStatus } from '#shared/node-status.ts';
import { factsHash } from '#shared/facts-hash.ts';

/**
 * What a heartbeat did to the node's membership: `joined` (first heartbeat), `returned` (it was
 * lost or stopped), `seen` (nothing changed), `ignored` (the node is terminated, or stopped after
 * this heartbeat was sent: a heartbeat still in the queue must not bring it back).
 */
export type HeartbeatOutcome = 'joined' | 'returned' | 'seen' | 'ignored';

/** How long a silent node's record is kept before the table's TTL removes it. */
export const NODE_RECORD_TTL_SEC = 7 * 86_400;

export class NodeRegistry {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /** Records a heartbeat and makes the node active again; says how its membership changed. */
  async recordHeartbeat(hb: HeartbeatReply, now: number): Promise<HeartbeatOutcome> {
    // The Auto Scaling group, when the agent found one (EC2 tag), for lifecycle hooks and `find`.
    const asg = typeof hb.facts.asg === 'string' && hb.facts.asg !== '' ? hb.facts.asg : undefined;
    let old: Record<string, unknown> | undefined;
    try {
      old = await this.#upsert(hb, now, asg);
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return 'ignored';
      throw error;
    }
    if (old?.joinedAt === undefined) return 'joined';
    if (nodeStatus(old) === 'active') return 'seen';
    // A second small write: statusAt says when it came back, only when it did.
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { nodeId: hb.nodeId },
        UpdateExpression: 'SET #statusAt = :now, #statusReason = :why',
        ExpressionAttributeNames: { '#statusAt': 'statusAt', '#statusReason': 'statusReason' },
        ExpressionAttributeValues: { ':now': now, ':why': `heartbeat again after ${nodeStatus(old)}` },
      }),
    );
    return 'returned';
  }

  /**
   * Liveness first: when the stored facts hash equals this heartbeat's, only the small attributes
   * are set (facts and classes are not rewritten). Otherwise, or for a new node, the whole record.
   * Both writes carry the membership condition; the second runs only when the first failed.
   * (DynamoDB bills an UpdateItem by the item's size whatever it sets, so the saving is in bytes
   * written and replicated, not in write units: see docs/cost.md.)
   */
  async #upsert(
    hb: HeartbeatReply,
    now: number,
    asg: string | undefined,
  ): Promise<Record<string, unknown> | undefined> {
    const hash = factsHash(hb.facts, hb.classes);
    try {
      return await this.#write(hb, now, asg, hash, false);
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Facts changed, a new node, or a membership refusal (which the full write meets again).
    return this.#write(hb, now, asg, hash, true);
  }

  async #write(
    hb: HeartbeatReply,
    now: number,
    asg: string | undefined,
    hash: string,
    withFacts: boolean,
  ): Promise<Record<string, unknown> | undefined> {
    const names = [
      'identity',
      'inbox',
      'agentVersion',
      'heartbeatSec',
      'lastSeen',
      'startedAt',
      'expiresAt',
      'joinedAt',
      'status',
      'statusAt',
      'factsHash',
      ...(withFacts ? ['facts', 'classes'] : []),
      ...(asg ? ['asg'] : []),
    ];
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { nodeId: hb.nodeId },
        UpdateExpression:
          'SET #identity = :identity, #inbox = :inbox, ' +
          '#agentVersion = :version, #heartbeatSec = :hb, #lastSeen = :now, #startedAt = :started, ' +
          '#expiresAt = :exp, #joinedAt = if_not_exists(#joinedAt, :now), #status = :active, ' +
          '#statusAt = if_not_exists(#statusAt, :now), #factsHash = :hash' +
          (withFacts ? ', #facts = :facts, #classes = :classes' : '') +
          (asg ? ', #asg = :asg' : ''),
        // Attribute names go through placeholders: `identity` is a DynamoDB reserved word.
        ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: {
          ':identity': hb.identity,
          ':inbox': hb.inbox,
          ':version': hb.agentVersion,
          ':hb': hb.heartbeatSec,
          ':now': now,
          ':started': hb.startedAt,
          ':exp': Math.floor(now / 1000) + NODE_RECORD_TTL_SEC,
          ':active': 'active',
          ':terminated': 'terminated',
          ':stopped': 'stopped',
          ':sent': hb.sentAt,
          ':hash': hash,
          ...(withFacts ? { ':facts': hb.facts, ':classes': hb.classes } : {}),
          ...(asg ? { ':asg': asg } : {}),
        },
        // Never back from terminated; back from stopped only with a heartbeat sent after the stop.
        // The liveness-only write also needs the stored facts to be this heartbeat's.
        ConditionExpression:
          (withFacts ? '' : '#factsHash = :hash AND ') +
          '(attribute_not_exists(#status) OR (#status <> :terminated AND ' +
          '(#status <> :stopped OR #statusAt < :sent)))',
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return out.Attributes;
  }
}
