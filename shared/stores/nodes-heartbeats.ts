/**
 * Heartbeats into the nodes table: one upsert per heartbeat, `joinedAt` kept from the first, facts
 * rewritten only when their hash changed. On the plain DynamoDB client (values marshalled here), as
 * the reply ledger: 1,000 agents beating every 30 s are 33 writes a second, and the document
 * client's (un)marshalling middleware about doubled each one's client CPU.
 */
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { awsErrorName } from '../aws.ts';
import type { HeartbeatReply } from '../messages.ts';
import { nodeStatus } from '../node-status.ts';
import { factsHash } from '../facts-hash.ts';

/**
 * What a heartbeat did to the node's membership: `joined` (first heartbeat), `returned` (it was
 * lost or stopped), `seen` (nothing changed), `ignored` (the node is terminated, or stopped after
 * this heartbeat was sent: a heartbeat still in the queue must not bring it back).
 */
export type HeartbeatOutcome = 'joined' | 'returned' | 'seen' | 'ignored';

/**
 * The three writes of a heartbeat, tried in this order: liveness when the stored facts hash is
 * this heartbeat's; the whole record when the stored facts are older; liveness alone otherwise.
 */
type WriteMode = 'same-facts' | 'newer-facts' | 'liveness';

const FACTS_CONDITION: Record<WriteMode, string> = {
  'same-facts': '#factsHash = :hash AND ',
  // A stored time ahead of ingest's clock came from an agent clock that ran fast: once the
  // clock is set right, its heartbeats must still be able to replace those facts.
  'newer-facts': '(attribute_not_exists(#factsAt) OR #factsAt < :sent OR #factsAt > :now) AND ',
  liveness: '',
};

/** How long a silent node's record is kept before the table's TTL removes it. */
export const NODE_RECORD_TTL_SEC = 7 * 86_400;

export class NodeHeartbeats {
  constructor(
    private readonly db: DynamoDBClient,
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
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return 'ignored';
      throw error;
    }
    if (old?.joinedAt === undefined) return 'joined';
    if (nodeStatus(old) === 'active') return 'seen';
    // A second small write: statusAt says when it came back, only when it did.
    await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ nodeId: hb.nodeId }),
        UpdateExpression: 'SET #statusAt = :now, #statusReason = :why',
        ExpressionAttributeNames: { '#statusAt': 'statusAt', '#statusReason': 'statusReason' },
        ExpressionAttributeValues: marshall({
          ':now': now,
          ':why': `heartbeat again after ${nodeStatus(old)}`,
        }),
      }),
    );
    return 'returned';
  }

  /**
   * Liveness first: when the stored facts hash equals this heartbeat's, only the small attributes
   * are set (facts and classes are not rewritten). Otherwise, or for a new node, the whole record,
   * unless the stored facts came with a later heartbeat (SQS delivers out of order, the agent
   * retries): then liveness alone again, so an old heartbeat never brings old facts back.
   * Every write carries the membership condition, so a refused node fails all three. (DynamoDB
   * bills an UpdateItem by the item's size whatever it sets, so the saving is in bytes written
   * and replicated, not in write units: docs/events.md#what-heartbeats-cost.)
   */
  async #upsert(
    hb: HeartbeatReply,
    now: number,
    asg: string | undefined,
  ): Promise<Record<string, unknown> | undefined> {
    const hash = factsHash(hb.facts, hb.classes);
    for (const mode of ['same-facts', 'newer-facts'] as const) {
      try {
        return await this.#write(hb, now, asg, hash, mode);
      } catch (error: unknown) {
        if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
      }
    }
    return this.#write(hb, now, asg, hash, 'liveness');
  }

  async #write(
    hb: HeartbeatReply,
    now: number,
    asg: string | undefined,
    hash: string,
    mode: WriteMode,
  ): Promise<Record<string, unknown> | undefined> {
    const withFacts = mode === 'newer-facts';
    // DynamoDB refuses names and values an expression does not use: each mode lists its own.
    // The group comes from the facts, so it is written with them.
    const factNames = withFacts
      ? ['facts', 'classes', 'factsHash', 'factsAt', ...(asg ? ['asg'] : [])]
      : mode === 'same-facts'
        ? ['factsHash']
        : [];
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
      ...factNames,
    ];
    const out = await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ nodeId: hb.nodeId }),
        UpdateExpression:
          'SET #identity = :identity, #inbox = :inbox, ' +
          '#agentVersion = :version, #heartbeatSec = :hb, #lastSeen = :now, #startedAt = :started, ' +
          '#expiresAt = :exp, #joinedAt = if_not_exists(#joinedAt, :now), #status = :active, ' +
          '#statusAt = if_not_exists(#statusAt, :now)' +
          (withFacts ? ', #facts = :facts, #classes = :classes, #factsHash = :hash, #factsAt = :sent' : '') +
          (withFacts && asg ? ', #asg = :asg' : ''),
        // Attribute names go through placeholders: `identity` is a DynamoDB reserved word.
        ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: marshall(
          {
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
            ...(mode === 'liveness' ? {} : { ':hash': hash }),
            ...(withFacts ? { ':facts': hb.facts, ':classes': hb.classes } : {}),
            ...(withFacts && asg ? { ':asg': asg } : {}),
          },
          // As the document client marshalled them (shared/aws.ts): facts are plain JSON.
          { removeUndefinedValues: true, convertClassInstanceToMap: false },
        ),
        // Never back from terminated; back from stopped only with a heartbeat sent after the stop.
        // The first liveness write needs the stored facts to be this heartbeat's; the facts write,
        // the stored ones to be older than this heartbeat (or of a record that has none).
        ConditionExpression:
          FACTS_CONDITION[mode] +
          '(attribute_not_exists(#status) OR (#status <> :terminated AND ' +
          '(#status <> :stopped OR #statusAt < :sent)))',
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return out.Attributes && unmarshall(out.Attributes);
  }
}
