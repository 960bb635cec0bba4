/**
 * The node writes of the reply ledger: one reply's move of its node, each under the condition the
 * table of node moves gives it (shared/stores/node-moves.ts), so a duplicated or replayed reply
 * moves nothing; and what a reply that finds its node no longer waiting is (`late`, or a
 * duplicate that brings the markers its node's status implies).
 */
import { awsErrorName } from '#shared/aws.ts';
import {
  batchSk,
  groupPk,
  nodeSk,
  type BatchItem,
  type NodeRunItem,
  type NodeStatus,
  tallyMember,
  type TallyMember,
} from '#shared/runs-table.ts';
import { isNodeMove, moveCondition, UNCHANGED } from '#shared/stores/node-moves.ts';
import type { RunItems } from '#shared/stores/runs-items.ts';
import {
  acceptedFrom,
  markersFor,
  REPLY_MOVE,
  statusAfter,
  type Marker,
  type RunReply,
} from './reply-transitions.ts';
import { replyFields, setExpression } from './reply-fields.ts';

/**
 * `unknown`: the reply names no node of the run, a node of another batch or dispatch group, or a
 * batch that was never dispatched (no genuine agent can have been asked yet): it changes nothing.
 */
export type ReplyOutcome = 'recorded' | 'duplicate' | 'late' | 'unknown';

/**
 * What one reply did, the markers its node's status now implies for its group's counts, and that
 * group (undefined when the reply counts nothing).
 */
export type Applied = { outcome: ReplyOutcome; markers: Marker[]; group?: number; member?: TallyMember };

const NOTHING: Applied = { outcome: 'unknown', markers: [] };

/** A reply with the partition key of the node it answers for. */
type Placed = RunReply & { group: number; pk: string };

/** Whether a node record is the one a reply answers for: same batch, and same group if it names one. */
function answersFor(reply: RunReply, item: NodeRunItem | undefined): item is NodeRunItem {
  return (
    item !== undefined &&
    item.batch === reply.batch &&
    (reply.group === undefined || item.group === reply.group)
  );
}

/** How many batches' group maps a container keeps for replies that name no group. */
const GROUP_MAPS_MAX = 4;

export class NodeReplyWriter {
  /** Each batch's targets by dispatch group (read once per container: group items never change). */
  readonly #groupMaps = new Map<string, Promise<Map<string, number>>>();

  constructor(
    private readonly items: RunItems,
    private readonly now: () => number,
  ) {}

  /**
   * One conditional write moves the node from any state the reply may leave (a result may overtake
   * its ack: `acked` or `pending`), if it belongs to the reply's batch. A node in no such state
   * gets a late reply, or a duplicate, which brings the markers its current status implies.
   */
  async apply(received: RunReply, queuedAt: number | undefined): Promise<Applied> {
    // The node's partition is its group's: the reply names the group (an older agent's, or a
    // report after a restart, does not: then the batch's group items say which holds the node).
    const group = received.group ?? (await this.#groupOf(received));
    if (group === undefined) return NOTHING;
    const reply: Placed = { ...received, group, pk: groupPk(received.runId, received.batch, group) };
    const fields = replyFields(reply, this.now());
    const status = statusAfter(reply);
    // The reply's batch (and group) must be the node's: a host cannot move its node with a reply
    // that names another batch or group (nor add to their counts).
    const condition = moveCondition(REPLY_MOVE[reply.type], acceptedFrom(reply), status, guardOf(reply));
    const expr = setExpression({ ...fields, status });
    try {
      // The node as it was (before its result, so small) says what its group's tally counts it as.
      const before = await this.items.update<NodeRunItem>(reply.pk, nodeSk(reply.nodeId), {
        UpdateExpression: expr.UpdateExpression,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, ...condition.ExpressionAttributeNames },
        values: { ...expr.values, ...condition.values },
        ReturnValues: 'ALL_OLD',
      });
      const member = tallyMember(before ?? reply);
      return { outcome: 'recorded', markers: markersFor({ status }), group, member };
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
    }
    // States only move forward: a node that was in none of them will never be again.
    const item = await this.getNode(reply.pk, reply.nodeId);
    if (!answersFor(reply, item)) return NOTHING;
    if (item.status === 'no_response' && (await this.#sentInTime(reply, queuedAt))) {
      const reopened = await this.#reopen(reply, fields, status);
      if (reopened) return reopened;
      return this.#applyLate(reply, fields);
    }
    const outcome = await this.#recordLate(reply, fields, item);
    return {
      outcome,
      markers: outcome === 'duplicate' ? markersFor(item) : [],
      group,
      member: tallyMember(item),
    };
  }

  /**
   * The group of a reply that names none (an agent older than groups, a report after a restart),
   * from the batch's group items, read once per container and batch. Only asked for a dispatched
   * batch (the ledger checks first), whose group items Plan wrote before anything was sent.
   */
  async #groupOf(reply: RunReply): Promise<number | undefined> {
    const key = `${reply.runId}#${reply.batch}`;
    let members = this.#groupMaps.get(key);
    if (!members) {
      members = this.items.groupMembers(reply.runId, reply.batch);
      this.#groupMaps.set(key, members);
      if (this.#groupMaps.size > GROUP_MAPS_MAX) this.#groupMaps.delete(this.#groupMaps.keys().next().value!);
      // A read that failed is not kept: the reply fails and its redelivery reads again.
      const reading = members;
      reading.catch(() => {
        if (this.#groupMaps.get(key) === reading) this.#groupMaps.delete(key);
      });
    }
    return (await members).get(reply.nodeId);
  }

  /** Whether a reply reached SQS by the time its batch's acknowledgement window closed. */
  async #sentInTime(reply: RunReply, queuedAt: number | undefined): Promise<boolean> {
    if (queuedAt === undefined || reply.type === 'rejected') return false;
    // Read now, not with the batch: CloseBatch records the window's end before giving up on anyone.
    const batch = await this.items.get<BatchItem>(reply.runId, batchSk(reply.batch));
    return batch?.ackWindowEndsAt !== undefined && queuedAt <= batch.ackWindowEndsAt;
  }

  /**
   * Moves a node CloseBatch gave up on (`no_response`) to what its in-time reply says, unless
   * Finish sealed it first (it counted the host already): then the reply is only `late`.
   */
  async #reopen(
    reply: Placed,
    fields: Record<string, unknown>,
    status: NodeStatus,
  ): Promise<Applied | undefined> {
    if (!isNodeMove('no_response', status, false)) return undefined;
    const condition = moveCondition('reopen', ['no_response'], status, guardOf(reply));
    const expr = setExpression({ ...fields, status });
    try {
      const before = await this.items.update<NodeRunItem>(reply.pk, nodeSk(reply.nodeId), {
        UpdateExpression: `${expr.UpdateExpression} REMOVE #closed`,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: {
          ...expr.ExpressionAttributeNames,
          ...condition.ExpressionAttributeNames,
          '#closed': 'closed',
        },
        values: { ...expr.values, ...condition.values },
        ReturnValues: 'ALL_OLD',
      });
      const member = tallyMember(before ?? reply);
      return { outcome: 'recorded', markers: markersFor({ status }), group: reply.group, member };
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
      return undefined;
    }
  }

  /** The late path once more, from the node as it is now. */
  async #applyLate(reply: Placed, fields: Record<string, unknown>): Promise<Applied> {
    const item = await this.getNode(reply.pk, reply.nodeId);
    if (!answersFor(reply, item)) return NOTHING;
    const outcome = await this.#recordLate(reply, fields, item);
    return {
      outcome,
      markers: outcome === 'duplicate' ? markersFor(item) : [],
      group: reply.group,
      member: tallyMember(item),
    };
  }

  /**
   * A reply for a node that is no longer waiting: `late` if the batch gave up on it (or, for the
   * cancelled result of a host a cancel gave up on, its outcome), else a duplicate.
   */
  async #recordLate(
    reply: Placed,
    fields: Record<string, unknown>,
    item: NodeRunItem,
    attempt = 0,
  ): Promise<ReplyOutcome> {
    if (!item.closed || reply.type === 'rejected') return 'duplicate';
    // Only the moves the table lists; a node it has no late move for keeps its record.
    if (!isNodeMove(item.status, 'late', false)) return 'duplicate';
    if (reply.type === 'ack' && item.status !== 'no_response') return 'duplicate';
    // A cancel gave up on a host whose ack was still delayed, and the host reports the command it
    // killed: that is its outcome, kept as `cancelled`, not a late reply.
    const confirmsCancel = item.status === 'cancelled' && reply.type === 'result' && reply.cancelled === true;
    // Sealed: Finish counted the host as what it was; the late record says so. The condition
    // holds the seal as read, so a seal landing meanwhile makes this read the node again.
    const sealed = item.sealed === true;
    const condition = confirmsCancel
      ? moveCondition('confirm cancel', [item.status], UNCHANGED, { sealed })
      : moveCondition('late', [item.status], 'late', { sealed });
    const expr = setExpression(
      confirmsCancel
        ? fields
        : {
            ...fields,
            status: 'late' satisfies NodeStatus,
            lateAs: item.lateAs ?? item.status,
            ...(sealed ? { lateAfterSummary: true } : {}),
          },
    );
    try {
      await this.items.update(reply.pk, nodeSk(reply.nodeId), {
        UpdateExpression: expr.UpdateExpression,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, ...condition.ExpressionAttributeNames },
        values: { ...expr.values, ...condition.values },
      });
      return confirmsCancel ? 'recorded' : 'late';
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
      if (sealed || attempt > 0) return 'duplicate';
      const now = await this.getNode(reply.pk, reply.nodeId);
      return now?.sealed ? this.#recordLate(reply, fields, now, 1) : 'duplicate';
    }
  }

  /**
   * Marks a host whose inbox could not be reached (`pending` → `unreachable`, closed). Returns
   * whether the node is unreachable now: also when a retried dispatch had marked it already.
   * `pk`: the node item's partition key (its `runId` attribute).
   */
  async markUnreachable(pk: string, nodeId: string, error: string): Promise<boolean> {
    const condition = moveCondition('unreachable', ['pending'], 'unreachable');
    const expr = setExpression({ status: 'unreachable', error, closed: true });
    try {
      await this.items.update(pk, nodeSk(nodeId), {
        UpdateExpression: expr.UpdateExpression,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, ...condition.ExpressionAttributeNames },
        values: { ...expr.values, ...condition.values },
      });
      return true;
    } catch (e: unknown) {
      if (awsErrorName(e) !== 'ConditionalCheckFailedException') throw e;
      return (await this.getNode(pk, nodeId))?.status === 'unreachable';
    }
  }

  /** A node item by its partition key (`pk`: its group's) and node id. */
  async getNode(pk: string, nodeId: string): Promise<NodeRunItem | undefined> {
    return this.items.get<NodeRunItem>(pk, nodeSk(nodeId));
  }
}

/** What a reply's move checks of its node beyond its status: the batch, and the group it names. */
function guardOf(reply: RunReply): { batch: number; group?: number } {
  return { batch: reply.batch, ...(reply.group !== undefined ? { group: reply.group } : {}) };
}
