/**
 * The ledger of replies for runs: node states, batch counts and the task tokens of the two waits.
 * Every node write is conditional on the node's current state and batch, so a duplicated or
 * replayed reply moves nothing; counts are marker sets (see reply-transitions.ts), so a retried
 * or replayed counting write counts nothing twice, and a redelivery repairs a count that was lost.
 * A wait is released the moment the counts reach their target.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { awsErrorName } from '#shared/aws.ts';
import { batchSk, nodeSk, type BatchItem, type NodeRunItem, type NodeStatus } from '#shared/runs-table.ts';
import { isNodeMove, moveCondition, UNCHANGED, type NodeMoveName } from '#shared/stores/node-moves.ts';
import { RunItems } from '#shared/stores/runs-items.ts';
import {
  acceptedFrom,
  acksComplete,
  batchCounts,
  markersFor,
  resultsComplete,
  statusAfter,
  type Marker,
  type RunReply,
} from './reply-transitions.ts';
import { replyFields, setExpression } from './reply-fields.ts';

/**
 * `unknown`: the reply names no node of the run, a node of another batch, or a batch that was
 * never dispatched (no genuine agent can have been asked yet): it changes nothing.
 */
export type ReplyOutcome = 'recorded' | 'duplicate' | 'late' | 'unknown';

/** What became of one reply: its outcome, or why it could not be recorded (deliver it again). */
export type RecordOutcome = ReplyOutcome | { error: unknown };

/** The replies of one batch in a call to `record`, by index. */
interface BatchGroup {
  runId: string;
  batch: number;
  members: number[];
}

/** A batch's markers to add: node ids by marker set. */
type Markers = Map<Marker, Set<string>>;

export interface LedgerDeps {
  /** The plain client (cached middleware): every reply costs at least one write here. */
  db: DynamoDBClient;
  sfn: SFNClient;
  table: string;
  now: () => number;
}

type Phase = 'acks' | 'results';
type Applied = { outcome: ReplyOutcome; markers: Marker[] };
/** The order one node's replies of a delivery are recorded in. */
const TYPE_ORDER: Record<RunReply['type'], number> = { ack: 0, rejected: 1, result: 2 };
const TOKEN_ATTR: Record<Phase, 'ackToken' | 'resultToken'> = { acks: 'ackToken', results: 'resultToken' };
const DONE_ATTR: Record<Phase, string> = { acks: 'acksDoneAt', results: 'resultsDoneAt' };
/** The row of the table of node moves (shared/stores/node-moves.ts) each kind of reply makes. */
const REPLY_MOVE: Record<RunReply['type'], NodeMoveName> = {
  ack: 'ack',
  rejected: 'reject',
  result: 'result',
};

export class ReplyLedger {
  readonly #items: RunItems;

  constructor(private readonly deps: LedgerDeps) {
    this.#items = new RunItems(deps.db, deps.table);
  }

  /**
   * Records replies (any runs, any batches). Per batch: one consistent read (is it dispatched?),
   * then each reply's node transition as its own write, all at once, so one failing write neither
   * holds up nor drops the others; then one write adds the markers the replies' node statuses
   * imply, and any wait whose target is reached is released. A reply comes back as `{ error }`
   * when its write failed, or when its batch's markers or wait could not be updated: the caller
   * has it delivered again, and the duplicate re-applies its markers and checks the waits again.
   */
  async record(
    replies: readonly RunReply[],
    /** When each reply reached SQS (its record's SentTimestamp), by index. */
    queuedAt: readonly (number | undefined)[] = [],
  ): Promise<RecordOutcome[]> {
    const outcomes: RecordOutcome[] = replies.map(() => 'unknown');
    const groups = new Map<string, BatchGroup>();
    replies.forEach(({ runId, batch }, i) => {
      const key = `${runId}#${batch}`;
      const group = groups.get(key) ?? { runId, batch, members: [] };
      group.members.push(i);
      groups.set(key, group);
    });
    await Promise.all(
      [...groups.values()].map((group) => this.#recordBatch(group, replies, queuedAt, outcomes)),
    );
    return outcomes;
  }

  async #recordBatch(
    group: BatchGroup,
    replies: readonly RunReply[],
    queuedAt: readonly (number | undefined)[],
    outcomes: RecordOutcome[],
  ) {
    const { runId, batch, members } = group;
    const fail = (indexes: number[], error: unknown) => indexes.forEach((i) => (outcomes[i] = { error }));
    let item: BatchItem | undefined;
    try {
      item = await this.#items.get<BatchItem>(runId, batchSk(batch));
    } catch (error: unknown) {
      return fail(members, error);
    }
    if (item?.dispatchedAt === undefined) return; // `unknown`: nobody was asked yet
    // One node's replies in order, its ack first: a result recorded before the ack it follows could
    // find its node given up on and be `late`, where the ack (sent in time) would reopen it.
    const byNode = new Map<string, number[]>();
    for (const i of members) byNode.set(replies[i]!.nodeId, [...(byNode.get(replies[i]!.nodeId) ?? []), i]);
    const results = new Map<number, Promise<Applied>>();
    for (const indexes of byNode.values()) {
      indexes.sort((a, b) => TYPE_ORDER[replies[a]!.type] - TYPE_ORDER[replies[b]!.type]);
      let previous: Promise<unknown> = Promise.resolve();
      for (const i of indexes) {
        const next = previous.then(() => this.#applyReply(replies[i]!, queuedAt[i]));
        results.set(i, next);
        previous = next.catch(() => undefined);
      }
    }
    const applied = await Promise.allSettled(members.map((i) => results.get(i)!));
    const markers: Markers = new Map();
    const counting: number[] = [];
    applied.forEach((a, k) => {
      const i = members[k]!;
      if (a.status === 'rejected') return fail([i], a.reason);
      outcomes[i] = a.value.outcome;
      if (a.value.outcome !== 'recorded' && a.value.outcome !== 'duplicate') return;
      counting.push(i);
      for (const marker of a.value.markers) {
        markers.set(marker, (markers.get(marker) ?? new Set()).add(replies[i]!.nodeId));
      }
    });
    if (counting.length === 0) return;
    try {
      await this.#releaseWaits(markers.size > 0 ? await this.#addMarkers(runId, batch, markers) : item);
    } catch (error: unknown) {
      fail(counting, error);
    }
  }

  /**
   * One conditional write moves the node from any state the reply may leave (a result may overtake
   * its ack: `acked` or `pending`), if it belongs to the reply's batch. A node in no such state
   * gets a late reply, or a duplicate, which brings the markers its current status implies.
   */
  async #applyReply(reply: RunReply, queuedAt: number | undefined): Promise<Applied> {
    const fields = replyFields(reply, this.deps.now());
    const status = statusAfter(reply);
    // The reply's batch must be the node's: a host cannot move its node with a reply that names
    // another batch (nor add to that batch's counters).
    const condition = moveCondition(REPLY_MOVE[reply.type], acceptedFrom(reply), status, {
      batch: reply.batch,
    });
    const expr = setExpression({ ...fields, status });
    try {
      await this.#items.update(reply.runId, nodeSk(reply.nodeId), {
        UpdateExpression: expr.UpdateExpression,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, ...condition.ExpressionAttributeNames },
        values: { ...expr.values, ...condition.values },
      });
      return { outcome: 'recorded', markers: markersFor({ status }) };
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
    }
    // States only move forward: a node that was in none of them will never be again.
    const item = await this.#getNode(reply.runId, reply.nodeId);
    if (!item || item.batch !== reply.batch) return { outcome: 'unknown', markers: [] };
    if (item.status === 'no_response' && (await this.#sentInTime(reply, queuedAt))) {
      const reopened = await this.#reopen(reply, fields, status);
      if (reopened) return reopened;
      return this.#applyLate(reply, fields);
    }
    const outcome = await this.#recordLate(reply, fields, item);
    return { outcome, markers: outcome === 'duplicate' ? markersFor(item) : [] };
  }

  /** Whether a reply reached SQS by the time its batch's acknowledgement window closed. */
  async #sentInTime(reply: RunReply, queuedAt: number | undefined): Promise<boolean> {
    if (queuedAt === undefined || reply.type === 'rejected') return false;
    // Read now, not with the batch: CloseBatch records the window's end before giving up on anyone.
    const batch = await this.#items.get<BatchItem>(reply.runId, batchSk(reply.batch));
    return batch?.ackWindowEndsAt !== undefined && queuedAt <= batch.ackWindowEndsAt;
  }

  /**
   * Moves a node CloseBatch gave up on (`no_response`) to what its in-time reply says, unless
   * Finish sealed it first (it counted the host already): then the reply is only `late`.
   */
  async #reopen(
    reply: RunReply,
    fields: Record<string, unknown>,
    status: NodeStatus,
  ): Promise<Applied | undefined> {
    if (!isNodeMove('no_response', status, false)) return undefined;
    const condition = moveCondition('reopen', ['no_response'], status, { batch: reply.batch });
    const expr = setExpression({ ...fields, status });
    try {
      await this.#items.update(reply.runId, nodeSk(reply.nodeId), {
        UpdateExpression: `${expr.UpdateExpression} REMOVE #closed`,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: {
          ...expr.ExpressionAttributeNames,
          ...condition.ExpressionAttributeNames,
          '#closed': 'closed',
        },
        values: { ...expr.values, ...condition.values },
      });
      return { outcome: 'recorded', markers: markersFor({ status }) };
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
      return undefined;
    }
  }

  /** The late path once more, from the node as it is now. */
  async #applyLate(reply: RunReply, fields: Record<string, unknown>): Promise<Applied> {
    const item = await this.#getNode(reply.runId, reply.nodeId);
    if (!item || item.batch !== reply.batch) return { outcome: 'unknown', markers: [] };
    const outcome = await this.#recordLate(reply, fields, item);
    return { outcome, markers: outcome === 'duplicate' ? markersFor(item) : [] };
  }

  /**
   * A reply for a node that is no longer waiting: `late` if the batch gave up on it (or, for the
   * cancelled result of a host a cancel gave up on, its outcome), else a duplicate.
   */
  async #recordLate(
    reply: RunReply,
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
      await this.#items.update(reply.runId, nodeSk(reply.nodeId), {
        UpdateExpression: expr.UpdateExpression,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, ...condition.ExpressionAttributeNames },
        values: { ...expr.values, ...condition.values },
      });
      return confirmsCancel ? 'recorded' : 'late';
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
      if (sealed || attempt > 0) return 'duplicate';
      const now = await this.#getNode(reply.runId, reply.nodeId);
      return now?.sealed ? this.#recordLate(reply, fields, now, 1) : 'duplicate';
    }
  }

  async #getNode(runId: string, nodeId: string): Promise<NodeRunItem | undefined> {
    return this.#items.get<NodeRunItem>(runId, nodeSk(nodeId));
  }

  /**
   * Adds node ids to the batch's marker sets: a set union, so applying it twice (an SDK retry of a
   * write that applied, a redelivered reply) changes nothing. Returns the batch as it is now.
   */
  async #addMarkers(runId: string, batch: number, markers: Markers): Promise<BatchItem> {
    const entries = [...markers.entries()];
    return (await this.#items.update<BatchItem>(runId, batchSk(batch), {
      UpdateExpression: 'ADD ' + entries.map((_, i) => `#m${i} :m${i}`).join(', '),
      ConditionExpression: 'attribute_exists(runId)',
      ExpressionAttributeNames: Object.fromEntries(entries.map(([marker], i) => [`#m${i}`, marker])),
      values: Object.fromEntries(entries.map(([, ids], i) => [`:m${i}`, ids])),
      ReturnValues: 'ALL_NEW',
    }))!;
  }

  /**
   * Marks a host whose inbox could not be reached; it counts as answered for the acks wait. A
   * retried dispatch finds the node marked already and adds its marker again (a no-op, or the
   * repair of a count the first attempt lost).
   */
  async markUnreachable(runId: string, batch: number, nodeId: string, error: string): Promise<void> {
    const condition = moveCondition('unreachable', ['pending'], 'unreachable');
    const expr = setExpression({ status: 'unreachable', error, closed: true });
    try {
      await this.#items.update(runId, nodeSk(nodeId), {
        UpdateExpression: expr.UpdateExpression,
        ConditionExpression: condition.ConditionExpression,
        ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, ...condition.ExpressionAttributeNames },
        values: { ...expr.values, ...condition.values },
      });
    } catch (e: unknown) {
      if (awsErrorName(e) !== 'ConditionalCheckFailedException') throw e;
      if ((await this.#getNode(runId, nodeId))?.status !== 'unreachable') return;
    }
    const markers: Markers = new Map([['unreachableBy', new Set([nodeId])]]);
    await this.#releaseWaits(await this.#addMarkers(runId, batch, markers));
  }

  /**
   * Stores the task token of a wait, then checks the counters itself: replies may all be in
   * already, and ingest only releases waits whose token it can see.
   */
  async registerWait(runId: string, batch: number, phase: Phase, token: string): Promise<void> {
    const item = await this.#items.update<BatchItem>(runId, batchSk(batch), {
      UpdateExpression: 'SET #t = :t',
      ConditionExpression: 'attribute_exists(runId)',
      ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase] },
      values: { ':t': token },
      ReturnValues: 'ALL_NEW',
    });
    await this.#releaseWaits(item!);
  }

  /** Resumes a wait now, whatever the counters say (the run was cancelled). */
  async releaseWait(runId: string, batch: number, phase: Phase): Promise<void> {
    const batchItem = await this.#items.get<BatchItem>(runId, batchSk(batch));
    const token = batchItem?.[TOKEN_ATTR[phase]];
    if (batchItem && token) await this.#release(batchItem, phase, token);
  }

  async #releaseWaits(batch: BatchItem): Promise<void> {
    const counts = batchCounts(batch);
    if (batch.ackToken && acksComplete(counts)) await this.#release(batch, 'acks', batch.ackToken);
    if (batch.resultToken && resultsComplete(counts))
      await this.#release(batch, 'results', batch.resultToken);
  }

  /** Claims the token (only one caller wins) and resumes the state machine. */
  async #release(batch: BatchItem, phase: Phase, token: string): Promise<void> {
    try {
      await this.#items.update(batch.runId, batch.sk, {
        UpdateExpression: 'REMOVE #t SET #at = :now',
        ConditionExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase], '#at': DONE_ATTR[phase] },
        values: { ':t': token, ':now': this.deps.now() },
      });
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return;
      throw error;
    }
    try {
      await this.deps.sfn.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ phase }) }),
      );
    } catch (error: unknown) {
      // The wait may have timed out already; the state machine has moved on without us.
      if (awsErrorName(error) === 'TaskTimedOut' || awsErrorName(error) === 'TaskDoesNotExist') return;
      // Put the token back, so the next reply or redelivery of this batch releases the wait; if
      // even that fails, the wait runs to its timeout, which the state machine treats as normal.
      await this.#items
        .update(batch.runId, batch.sk, {
          UpdateExpression: 'SET #t = :t REMOVE #at',
          ConditionExpression: 'attribute_not_exists(#t)',
          ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase], '#at': DONE_ATTR[phase] },
          values: { ':t': token },
        })
        .catch(() => undefined);
      throw error;
    }
  }
}
