/**
 * The ledger of replies for runs: node states, batch counters and the task tokens of the two
 * waits. Every write is conditional on the node's current state, so a duplicated or replayed
 * reply changes nothing, and the wait is released the moment the counters reach their target.
 */
import {
  GetItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { awsErrorName } from '#shared/aws.ts';
import { fitCapturedStreams, RESULT_OUTPUT_BUDGET_BYTES } from '#shared/output-fit.ts';
import { batchSk, nodeSk, type BatchItem, type NodeRunItem, type NodeStatus } from '#shared/runs-table.ts';
import {
  acceptedFrom,
  acksComplete,
  statusAfter,
  addDeltas,
  NO_DELTAS,
  resultsComplete,
  transition,
  type CounterDeltas,
  type RunReply,
} from './reply-transitions.ts';

export type ReplyOutcome = 'recorded' | 'duplicate' | 'late' | 'unknown';

/** What became of one reply: its outcome, or why it could not be recorded (deliver it again). */
export type RecordOutcome = ReplyOutcome | { error: unknown };

/** The replies of one batch in a call to `record`: what they add to its counters, by index. */
interface BatchUpdate {
  runId: string;
  batch: number;
  /** Undefined when they add nothing (duplicates only): the waits are only checked again. */
  deltas: CounterDeltas | undefined;
  members: number[];
}

export interface LedgerDeps {
  /** The plain client (cached middleware): every reply costs at least one write here. */
  db: DynamoDBClient;
  sfn: SFNClient;
  table: string;
  now: () => number;
}

type Phase = 'acks' | 'results';
const TOKEN_ATTR: Record<Phase, 'ackToken' | 'resultToken'> = { acks: 'ackToken', results: 'resultToken' };
const DONE_ATTR: Record<Phase, string> = { acks: 'acksDoneAt', results: 'resultsDoneAt' };

export class ReplyLedger {
  constructor(private readonly deps: LedgerDeps) {}

  /**
   * Records replies (any runs, any batches). Each reply's node transition is its own write, all
   * sent at once, so one failing write neither holds up nor drops the others; then one counter
   * update per batch adds what the recorded replies changed, and any wait whose target is reached
   * is released. A reply comes back as `{ error }` when its write failed, or when its batch's
   * counters or wait could not be updated: the caller has it delivered again. A duplicate checks its
   * batch's waits again, so such a redelivery retries a release that failed.
   */
  async record(replies: readonly RunReply[]): Promise<RecordOutcome[]> {
    const applied = await Promise.allSettled(replies.map((reply) => this.#applyReply(reply)));
    const outcomes: RecordOutcome[] = applied.map((a) =>
      a.status === 'fulfilled' ? a.value.outcome : { error: a.reason as unknown },
    );
    const batches = new Map<string, BatchUpdate>();
    applied.forEach((a, i) => {
      if (a.status === 'rejected' || (!a.value.delta && a.value.outcome !== 'duplicate')) return;
      const { runId, batch } = replies[i]!;
      const key = `${runId}#${batch}`;
      const entry = batches.get(key) ?? { runId, batch, deltas: undefined, members: [] };
      if (a.value.delta) entry.deltas = addDeltas(entry.deltas ?? NO_DELTAS, a.value.delta);
      entry.members.push(i);
      batches.set(key, entry);
    });
    await Promise.all(
      [...batches.values()].map(async ({ runId, batch, deltas, members }) => {
        try {
          const item = deltas
            ? await this.#addCounters(runId, batch, deltas)
            : await this.#get<BatchItem>(runId, batchSk(batch));
          if (item) await this.#releaseWaits(item);
        } catch (error: unknown) {
          for (const i of members) outcomes[i] = { error };
        }
      }),
    );
    return outcomes;
  }

  /**
   * One conditional write moves the node from any state the reply may leave (a result may overtake
   * its ack: `acked` or `pending`); the state it left, returned by the same write, decides what
   * the reply adds to the counters. A node in no such state gets a late reply, or a duplicate.
   */
  async #applyReply(reply: RunReply): Promise<{ outcome: ReplyOutcome; delta?: CounterDeltas }> {
    const fields = replyFields(reply, this.deps.now());
    const from = acceptedFrom(reply);
    const expr = setExpression({ ...fields, status: statusAfter(reply) });
    try {
      const before = await this.#update<Pick<NodeRunItem, 'status'>>(reply.runId, nodeSk(reply.nodeId), {
        UpdateExpression: expr.UpdateExpression,
        // The reply's batch must be the node's: a host cannot move its node with a reply that
        // names another batch (nor add to that batch's counters).
        ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')}) AND #batch = :batch`,
        ExpressionAttributeNames: {
          ...expr.ExpressionAttributeNames,
          '#status': 'status',
          '#batch': 'batch',
        },
        values: {
          ...expr.values,
          ...Object.fromEntries(from.map((status, i) => [`:from${i}`, status])),
          ':batch': reply.batch,
        },
        ReturnValues: 'UPDATED_OLD',
      });
      return { outcome: 'recorded', delta: transition(before!.status, reply).deltas };
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
    }
    // States only move forward: a node that was in none of them will never be again.
    const item = await this.#getNode(reply.runId, reply.nodeId);
    if (!item || item.batch !== reply.batch) return { outcome: 'unknown' };
    return { outcome: await this.#recordLate(reply, fields, item) };
  }

  /**
   * A reply for a node that is no longer waiting: `late` if the batch gave up on it (or, for the
   * cancelled result of a host a cancel gave up on, its outcome), else a duplicate.
   */
  async #recordLate(
    reply: RunReply,
    fields: Record<string, unknown>,
    item: NodeRunItem,
  ): Promise<ReplyOutcome> {
    if (!item.closed || reply.type === 'rejected') return 'duplicate';
    if (reply.type === 'ack' && item.status !== 'no_response') return 'duplicate';
    // A cancel gave up on a host whose ack was still delayed, and the host reports the command it
    // killed: that is its outcome, kept as `cancelled`, not a late reply.
    const confirmsCancel = item.status === 'cancelled' && reply.type === 'result' && reply.cancelled === true;
    const expr = setExpression(
      confirmsCancel
        ? fields
        : { ...fields, status: 'late' satisfies NodeStatus, lateAs: item.lateAs ?? item.status },
    );
    try {
      await this.#update(reply.runId, nodeSk(reply.nodeId), {
        UpdateExpression: expr.UpdateExpression,
        ConditionExpression: '#closed = :true AND attribute_not_exists(#resultAt)',
        ExpressionAttributeNames: {
          ...expr.ExpressionAttributeNames,
          '#closed': 'closed',
          '#resultAt': 'resultAt',
        },
        values: { ...expr.values, ':true': true },
      });
      return confirmsCancel ? 'recorded' : 'late';
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return 'duplicate';
      throw error;
    }
  }

  async #updateNode(
    runId: string,
    nodeId: string,
    values: Record<string, unknown>,
    previous: NodeStatus,
  ): Promise<void> {
    const expr = setExpression(values);
    await this.#update(runId, nodeSk(nodeId), {
      UpdateExpression: expr.UpdateExpression,
      ConditionExpression: '#status = :previous',
      ExpressionAttributeNames: { ...expr.ExpressionAttributeNames, '#status': 'status' },
      values: { ...expr.values, ':previous': previous },
    });
  }

  async #getNode(runId: string, nodeId: string): Promise<NodeRunItem | undefined> {
    return this.#get<NodeRunItem>(runId, nodeSk(nodeId));
  }

  async #addCounters(
    runId: string,
    batch: number,
    d: CounterDeltas & { unreachable?: number },
  ): Promise<BatchItem> {
    return (await this.#update<BatchItem>(runId, batchSk(batch), {
      UpdateExpression: 'ADD #acked :a, #rejected :r, #done :d, #unreachable :u',
      ConditionExpression: 'attribute_exists(runId)',
      ExpressionAttributeNames: {
        '#acked': 'acked',
        '#rejected': 'rejected',
        '#done': 'done',
        '#unreachable': 'unreachable',
      },
      values: { ':a': d.acked, ':r': d.rejected, ':d': d.done, ':u': d.unreachable ?? 0 },
      ReturnValues: 'ALL_NEW',
    }))!;
  }

  /** One UpdateItem on the runs table; returns the item's attributes if asked for. */
  async #update<T>(runId: string, sk: string, update: Update): Promise<T | undefined> {
    const { values, ...rest } = update;
    const out = await this.deps.db.send(
      new UpdateItemCommand({
        TableName: this.deps.table,
        Key: marshall({ runId, sk }),
        ...rest,
        ...(values ? { ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }) } : {}),
      }),
    );
    return out.Attributes ? (unmarshall(out.Attributes) as T) : undefined;
  }

  async #get<T>(runId: string, sk: string): Promise<T | undefined> {
    const out = await this.deps.db.send(
      new GetItemCommand({ TableName: this.deps.table, Key: marshall({ runId, sk }), ConsistentRead: true }),
    );
    return out.Item ? (unmarshall(out.Item) as T) : undefined;
  }

  /** Marks a host whose inbox could not be reached; it counts as answered for the acks wait. */
  async markUnreachable(runId: string, batch: number, nodeId: string, error: string): Promise<void> {
    try {
      await this.#updateNode(runId, nodeId, { status: 'unreachable', error, closed: true }, 'pending');
    } catch (e: unknown) {
      if (awsErrorName(e) === 'ConditionalCheckFailedException') return;
      throw e;
    }
    await this.#releaseWaits(await this.#addCounters(runId, batch, { ...NO_DELTAS, unreachable: 1 }));
  }

  /**
   * Stores the task token of a wait, then checks the counters itself: replies may all be in
   * already, and ingest only releases waits whose token it can see.
   */
  async registerWait(runId: string, batch: number, phase: Phase, token: string): Promise<void> {
    const item = await this.#update<BatchItem>(runId, batchSk(batch), {
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
    const batchItem = await this.#get<BatchItem>(runId, batchSk(batch));
    const token = batchItem?.[TOKEN_ATTR[phase]];
    if (batchItem && token) await this.#release(batchItem, phase, token);
  }

  async #releaseWaits(batch: BatchItem): Promise<void> {
    if (batch.ackToken && acksComplete(batch)) await this.#release(batch, 'acks', batch.ackToken);
    if (batch.resultToken && resultsComplete(batch)) await this.#release(batch, 'results', batch.resultToken);
  }

  /** Claims the token (only one caller wins) and resumes the state machine. */
  async #release(batch: BatchItem, phase: Phase, token: string): Promise<void> {
    try {
      await this.#update(batch.runId, batch.sk, {
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
      await this.#update(batch.runId, batch.sk, {
        UpdateExpression: 'SET #t = :t REMOVE #at',
        ConditionExpression: 'attribute_not_exists(#t)',
        ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase], '#at': DONE_ATTR[phase] },
        values: { ':t': token },
      }).catch(() => undefined);
      throw error;
    }
  }
}

/** An update whose `values` are plain JavaScript, marshalled here. */
type Update = Omit<UpdateItemCommandInput, 'TableName' | 'Key' | 'ExpressionAttributeValues'> & {
  values?: Record<string, unknown>;
};

function replyFields(reply: RunReply, now: number): Record<string, unknown> {
  switch (reply.type) {
    case 'ack':
      return { ackedAt: now };
    case 'rejected':
      return { reason: reply.reason, resultAt: now };
    case 'result':
      return {
        exitCode: reply.exitCode,
        signal: reply.signal,
        timedOut: reply.timedOut,
        // Agents send results that fit; one that does not (another producer) is cut, not refused.
        ...fitCapturedStreams(reply.stdout, reply.stderr, RESULT_OUTPUT_BUDGET_BYTES),
        startedAt: reply.startedAt,
        endedAt: reply.endedAt,
        resultAt: now,
        ...(reply.error !== undefined ? { error: reply.error } : {}),
      };
  }
}

function setExpression(values: Record<string, unknown>) {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  return {
    UpdateExpression: 'SET ' + entries.map((_, i) => `#f${i} = :f${i}`).join(', '),
    ExpressionAttributeNames: Object.fromEntries(entries.map(([k], i) => [`#f${i}`, k])) as Record<
      string,
      string
    >,
    values: Object.fromEntries(entries.map(([, v], i) => [`:f${i}`, v])) as Record<string, unknown>,
  };
}
