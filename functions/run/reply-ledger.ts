/**
 * The ledger of replies for runs: node states, batch counts and the task tokens of the two waits.
 * Every node write is conditional on the node's current state and batch (reply-node-writes.ts),
 * so a duplicated or replayed reply moves nothing; counts are marker sets (batch-waits.ts), so a
 * retried or replayed counting write counts nothing twice, and a redelivery repairs a count that
 * was lost. A wait is released the moment the counts reach their target.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { batchSk, type BatchItem } from '#shared/runs-table.ts';
import { RunItems } from '#shared/stores/runs-items.ts';
import type { RunReply } from './reply-transitions.ts';
import { NodeReplyWriter, type Applied, type ReplyOutcome } from './reply-node-writes.ts';
import { BatchWaits, type Markers, type Phase } from './batch-waits.ts';

/** What became of one reply: its outcome, or why it could not be recorded (deliver it again). */
export type RecordOutcome = ReplyOutcome | { error: unknown };

/** The replies of one batch in a call to `record`, by index. */
interface BatchGroup {
  runId: string;
  batch: number;
  members: number[];
}

export interface LedgerDeps {
  /** The plain client (cached middleware): every reply costs at least one write here. */
  db: DynamoDBClient;
  sfn: SFNClient;
  table: string;
  now: () => number;
}

/** The order one node's replies of a delivery are recorded in. */
const TYPE_ORDER: Record<RunReply['type'], number> = { ack: 0, rejected: 1, result: 2 };

export class ReplyLedger {
  readonly #items: RunItems;
  readonly #nodes: NodeReplyWriter;
  readonly #waits: BatchWaits;

  constructor(deps: LedgerDeps) {
    this.#items = new RunItems(deps.db, deps.table);
    this.#nodes = new NodeReplyWriter(this.#items, deps.now);
    this.#waits = new BatchWaits(this.#items, deps.sfn, deps.now);
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
        const next = previous.then(() => this.#nodes.apply(replies[i]!, queuedAt[i]));
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
      await this.#waits.releaseReached(
        markers.size > 0 ? await this.#waits.addMarkers(runId, batch, markers) : item,
      );
    } catch (error: unknown) {
      fail(counting, error);
    }
  }

  /**
   * Marks a host whose inbox could not be reached; it counts as answered for the acks wait. A
   * retried dispatch finds the node marked already and adds its marker again (a no-op, or the
   * repair of a count the first attempt lost).
   */
  async markUnreachable(runId: string, batch: number, nodeId: string, error: string): Promise<void> {
    if (!(await this.#nodes.markUnreachable(runId, nodeId, error))) return;
    const markers: Markers = new Map([['unreachableBy', new Set([nodeId])]]);
    await this.#waits.releaseReached(await this.#waits.addMarkers(runId, batch, markers));
  }

  /**
   * Stores the task token of a wait, then checks the counters itself: replies may all be in
   * already, and ingest only releases waits whose token it can see.
   */
  registerWait(runId: string, batch: number, phase: Phase, token: string): Promise<void> {
    return this.#waits.register(runId, batch, phase, token);
  }

  /** Resumes a wait now, whatever the counters say (the run was cancelled). */
  releaseWait(runId: string, batch: number, phase: Phase): Promise<void> {
    return this.#waits.releaseNow(runId, batch, phase);
  }
}
