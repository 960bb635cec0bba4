/**
 * The ledger of replies for runs: node states, group counts and the task tokens of the two waits.
 * Every node write is conditional on the node's current state, batch and group
 * (reply-node-writes.ts), so a duplicated or replayed reply moves nothing; counts are marker sets
 * on each dispatch group's tally (batch-waits.ts), so a retried or replayed counting write counts
 * nothing twice, and a redelivery repairs a count that was lost. A wait is released the moment
 * every group of its batch is complete.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { groupPk, tallyMember, type BatchItem } from '#shared/runs-table.ts';
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

/** What one dispatch group of a batch counts from a call to `record`, and the replies it counts. */
interface GroupCount {
  markers: Markers;
  counting: number[];
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
   * Records replies (any runs, any batches). Per batch: one small consistent read of the batch
   * item (is it dispatched? which groups are complete?), or none when this container saw it
   * dispatched already and the replies are first deliveries (`BatchWaits.batchForReplies`); then
   * each reply's node transition as its own write, all at once, so one failing write neither
   * holds up nor drops the others; then per dispatch group one write adds the markers the replies'
   * node statuses imply to its tally, and what the tally shows complete goes on the batch,
   * releasing any wait whose groups are all in.
   * A reply comes back as `{ error }` when its write failed, or when its group's markers or wait
   * could not be updated: the caller has it delivered again, and the duplicate re-applies its
   * markers and checks the waits again.
   */
  async record(
    replies: readonly RunReply[],
    /** When each reply reached SQS (its record's SentTimestamp), by index. */
    queuedAt: readonly (number | undefined)[] = [],
    /**
     * Whether each reply is delivered for the first time (its record's ApproximateReceiveCount is
     * 1), by index; undefined counts as not. A batch all of whose replies are first deliveries is
     * counted against the batch as this container saw it, without reading it again.
     */
    firstDelivery: readonly (boolean | undefined)[] = [],
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
      [...groups.values()].map((group) =>
        this.#recordBatch(group, replies, queuedAt, outcomes, !group.members.every((i) => firstDelivery[i])),
      ),
    );
    return outcomes;
  }

  async #recordBatch(
    group: BatchGroup,
    replies: readonly RunReply[],
    queuedAt: readonly (number | undefined)[],
    outcomes: RecordOutcome[],
    /** Read the batch item even if this container has seen it dispatched (a redelivery). */
    fresh: boolean,
  ) {
    const { runId, batch, members } = group;
    const fail = (indexes: number[], error: unknown) => indexes.forEach((i) => (outcomes[i] = { error }));
    let item: BatchItem | undefined;
    try {
      item = await this.#waits.batchForReplies(runId, batch, fresh);
    } catch (error: unknown) {
      return fail(members, error);
    }
    if (item?.dispatchedAt === undefined) return; // `unknown`: nobody was asked yet
    const read = item;
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
    const byGroup = new Map<number, GroupCount>();
    const counting: number[] = [];
    applied.forEach((a, k) => {
      const i = members[k]!;
      if (a.status === 'rejected') return fail([i], a.reason);
      outcomes[i] = a.value.outcome;
      if (a.value.outcome !== 'recorded' && a.value.outcome !== 'duplicate') return;
      counting.push(i);
      const { group } = a.value;
      if (a.value.markers.length === 0 || group === undefined) return;
      const entry: GroupCount = byGroup.get(group) ?? { markers: new Map(), counting: [] };
      entry.counting.push(i);
      for (const marker of a.value.markers) {
        const member = a.value.member ?? replies[i]!.nodeId;
        entry.markers.set(marker, (entry.markers.get(marker) ?? new Set()).add(member));
      }
      byGroup.set(group, entry);
    });
    if (counting.length === 0) return;
    if (byGroup.size === 0) {
      // Nothing to count (replies of hosts given up on): the waits as read may still be due.
      await this.#waits.releaseReached(read).catch((error: unknown) => fail(counting, error));
      return;
    }
    await Promise.all(
      [...byGroup.entries()].map(async ([group, entry]) => {
        try {
          const tally = await this.#waits.addMarkers(runId, batch, group, entry.markers);
          await this.#waits.noteTally(read, tally, entry.markers.has('doneBy'));
        } catch (error: unknown) {
          fail(entry.counting, error);
        }
      }),
    );
  }

  /**
   * Marks a host whose inbox could not be reached; it counts as answered for the acks wait. A
   * retried dispatch finds the node marked already and adds its marker again (a no-op, or the
   * repair of a count the first attempt lost).
   */
  async markUnreachable(
    runId: string,
    at: { batch: number; group: number },
    node: { nodeId: string; slot?: number | undefined },
    error: string,
  ): Promise<void> {
    if (!(await this.#nodes.markUnreachable(groupPk(runId, at.batch, at.group), node.nodeId, error))) return;
    const markers: Markers = new Map([['unreachableBy', new Set([tallyMember(node)])]]);
    const tally = await this.#waits.addMarkers(runId, at.batch, at.group, markers);
    const batch = await this.#waits.readBatch(runId, at.batch);
    if (batch) await this.#waits.noteTally(batch, tally);
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
