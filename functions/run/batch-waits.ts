/**
 * The counting side of the reply ledger. Each dispatch group counts its answers on its own tally
 * item (sets of node ids, so a retried or replayed counting write counts nothing twice, and a
 * redelivery repairs a count that was lost); when a tally shows its group complete, the group's
 * index joins a number set on the batch item (`groupsAcked`, `groupsDone`), and a wait is released
 * the moment its set holds every group. So a counting update costs at most a group's tally (500
 * hosts), and a batch update a few bytes, whatever the batch's size.
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { awsErrorName } from '#shared/aws.ts';
import { batchSk, groupPk, tallySk, type BatchItem, type TallyItem } from '#shared/runs-table.ts';
import type { RunItems } from '#shared/stores/runs-items.ts';
import { acksComplete, groupFinished, resultsComplete, tallyCounts } from './reply-transitions.ts';
import { CoalescedTallyWrites, type Markers } from './tally-writes.ts';

export type Phase = 'acks' | 'results';
/** A group's markers to add: the nodes' tally members (slots, or node ids on older runs) by marker set. */
export type { Markers };

const TOKEN_ATTR: Record<Phase, 'ackToken' | 'resultToken'> = { acks: 'ackToken', results: 'resultToken' };
const DONE_ATTR: Record<Phase, 'acksDoneAt' | 'resultsDoneAt'> = {
  acks: 'acksDoneAt',
  results: 'resultsDoneAt',
};
const PHASES: readonly Phase[] = ['acks', 'results'];
const GROUPS_ATTR: Record<Phase, 'groupsAcked' | 'groupsDone'> = {
  acks: 'groupsAcked',
  results: 'groupsDone',
};

/** What the ledger and the waits read of a batch item (never its history: it stays small). */
export const BATCH_WAIT_FIELDS = [
  'runId',
  'sk',
  'batch',
  'expected',
  'groupCount',
  'groupsAcked',
  'groupsDone',
  'ackToken',
  'resultToken',
  'acksDoneAt',
  'resultsDoneAt',
  'dispatchedAt',
] as const;

/** How many batches' unchanging facts a container keeps (oldest forgotten first). */
const SEEN_BATCHES_MAX = 1000;

/** The union of two sets of group indexes (a batch's sets only grow). */
function union(a: Set<number> | undefined, b: Set<number> | undefined): Set<number> | undefined {
  if (!a) return b && new Set(b);
  return b ? new Set([...a, ...b]) : new Set(a);
}

const groupsOf = (batch: Pick<BatchItem, 'groupCount'>): number => batch.groupCount ?? 1;
const holdsAll = (set: Set<number> | undefined, count: number): boolean => (set?.size ?? 0) >= count;

export class BatchWaits {
  /**
   * Dispatched batches as this container last saw them, by `runId#batch`, without their tokens:
   * what never changes once a batch is dispatched (it stays dispatched; its expected count and
   * groups are Plan's) and the groups its sets were seen to hold (sets only grow, so a stale copy
   * holds fewer, never more). A first delivery's replies are counted from it with no read;
   * `batchForReplies` says when a fresh read is needed.
   */
  readonly #seen = new Map<string, BatchItem>();
  /** The copies `#seen` holds (never tokens; a `…DoneAt` only for a release seen completed). */
  readonly #fromMemory = new WeakSet<BatchItem>();
  readonly #tallyWrites = new CoalescedTallyWrites();

  constructor(
    private readonly items: RunItems,
    private readonly sfn: SFNClient,
    private readonly now: () => number,
  ) {}

  /** The batch item's counting fields: one small consistent read. */
  async readBatch(runId: string, batch: number): Promise<BatchItem | undefined> {
    const item = await this.items.get<BatchItem>(runId, batchSk(batch), BATCH_WAIT_FIELDS);
    if (item) this.#remember(item);
    return item;
  }

  /**
   * The batch as replies are counted against it: as seen before when it was seen dispatched and
   * `fresh` is false, else read. A copy from memory has no tokens: a wait is released by the batch
   * write that completes its set (which answers with the item as it is), or by its registration
   * finding the set complete; repairing a release that was lost (a token put back, an ingest that
   * crashed in between) needs the tokens as they are, so a copy whose set holds every group
   * without a release seen is read again (`#asItIs`), and the caller asks `fresh` for
   * redelivered replies.
   */
  async batchForReplies(runId: string, batch: number, fresh: boolean): Promise<BatchItem | undefined> {
    const seen = fresh ? undefined : this.#seen.get(`${runId}#${batch}`);
    return seen ?? this.readBatch(runId, batch);
  }

  /** Keeps what cannot change of a dispatched batch, and the union of the groups seen in its sets. */
  #remember(item: BatchItem): void {
    if (item.dispatchedAt === undefined) return;
    const key = `${item.runId}#${item.batch}`;
    const old = this.#seen.get(key);
    const kept: BatchItem = {
      runId: item.runId,
      sk: item.sk,
      batch: item.batch,
      expected: item.expected,
      ...(item.groupCount !== undefined ? { groupCount: item.groupCount } : {}),
      dispatchedAt: item.dispatchedAt,
      expiresAt: item.expiresAt,
    };
    const acked = union(old?.groupsAcked, item.groupsAcked);
    const done = union(old?.groupsDone, item.groupsDone);
    if (acked) kept.groupsAcked = acked;
    if (done) kept.groupsDone = done;
    // A wait with its end recorded and its token gone was released (or is being: a release that
    // fails puts the token back, and its own replies, delivered again, read afresh).
    for (const phase of PHASES) {
      const at = old?.[DONE_ATTR[phase]] ?? (item[TOKEN_ATTR[phase]] ? undefined : item[DONE_ATTR[phase]]);
      if (at !== undefined) kept[DONE_ATTR[phase]] = at;
    }
    this.#fromMemory.add(kept);
    this.#seen.delete(key);
    this.#seen.set(key, kept);
    if (this.#seen.size > SEEN_BATCHES_MAX) this.#seen.delete(this.#seen.keys().next().value!);
  }

  /**
   * Whether a copy from memory may hide a wait that is due: a set that holds every group and a
   * release this container has not seen completed (the token is not in the copy). Then the batch
   * is read: so a release that was lost (a token put back, an ingest that crashed in between) is
   * made at the next reply, a first delivery or not, and a wait released elsewhere is seen
   * released once. Otherwise no wait can be due that the batch write completing it did not see.
   */
  async #asItIs(batch: BatchItem): Promise<BatchItem> {
    if (!this.#fromMemory.has(batch)) return batch;
    const count = groupsOf(batch);
    const mayBeDue =
      (holdsAll(batch.groupsAcked, count) && batch.acksDoneAt === undefined) ||
      (holdsAll(batch.groupsDone, count) && batch.resultsDoneAt === undefined);
    return mayBeDue ? ((await this.readBatch(batch.runId, batch.batch)) ?? batch) : batch;
  }

  /** Notes in memory a release this container completed (or found the wait gone). */
  #released(batch: BatchItem, phase: Phase, at: number): void {
    const kept = this.#seen.get(`${batch.runId}#${batch.batch}`);
    if (kept) kept[DONE_ATTR[phase]] = at;
  }

  /**
   * Adds node ids to a group's marker sets: a set union, so applying it twice (an SDK retry of a
   * write that applied, a redelivered reply) changes nothing. Returns the tally as it is now, or
   * undefined when the group has none (a run planned before groups were counted: its waits run to
   * their timeouts, which the state machine treats as normal). Concurrent additions to one tally
   * go out together (tally-writes.ts).
   */
  async addMarkers(
    runId: string,
    batch: number,
    group: number,
    markers: Markers,
  ): Promise<TallyItem | undefined> {
    return this.#tallyWrites.add(groupPk(runId, batch, group), markers, (all) =>
      this.#writeMarkers(runId, batch, group, all),
    );
  }

  async #writeMarkers(
    runId: string,
    batch: number,
    group: number,
    markers: Markers,
  ): Promise<TallyItem | undefined> {
    const entries = [...markers.entries()];
    try {
      return await this.items.update<TallyItem>(groupPk(runId, batch, group), tallySk(batch, group), {
        UpdateExpression: 'ADD ' + entries.map((_, i) => `#m${i} :m${i}`).join(', '),
        ConditionExpression: 'attribute_exists(runId)',
        ExpressionAttributeNames: Object.fromEntries(entries.map(([marker], i) => [`#m${i}`, marker])),
        values: Object.fromEntries(entries.map(([, ids], i) => [`:m${i}`, ids])),
        ReturnValues: 'ALL_NEW',
      });
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }

  /**
   * After a tally update: records on the batch what the tally shows complete (unless the batch, as
   * read before, has it already: then whoever added it released what it could), and releases any
   * wait that is reached. A duplicate reply comes through here again, so a record or release a
   * crashed ingest lost is made good by the redelivery. `countedResult`: the update added results.
   */
  async noteTally(batch: BatchItem, tally: TallyItem | undefined, countedResult = false): Promise<void> {
    if (!tally) return;
    const counts = tallyCounts(tally);
    const add: Phase[] = [];
    if (acksComplete(counts) && !batch.groupsAcked?.has(tally.group)) add.push('acks');
    if (groupFinished(counts) && !batch.groupsDone?.has(tally.group)) add.push('results');
    let now = batch;
    if (add.length > 0) {
      now = (await this.items.update<BatchItem>(batch.runId, batch.sk, {
        UpdateExpression: 'ADD ' + add.map((phase) => `${GROUPS_ATTR[phase]} :g`).join(', '),
        ConditionExpression: 'attribute_exists(runId)',
        values: { ':g': new Set([tally.group]) },
        ReturnValues: 'ALL_NEW',
      }))!;
      this.#remember(now);
    }
    now = await this.#asItIs(now);
    if (now.ackToken && holdsAll(now.groupsAcked, groupsOf(now)))
      await this.#release(now, 'acks', now.ackToken);
    // The results wait may also end before every host answered (its acknowledgement wait timed
    // out): then each group only needs a result from every host that acknowledged. Looked at
    // closer only when this group has that and some group has silent hosts: about once a group.
    const lookCloser = resultsComplete(counts) && !holdsAll(now.groupsAcked, groupsOf(now));
    // A result that just completed this group may have raced the wait's registration (read before
    // it, counted after its look at the tallies): then only a fresh read sees the token.
    if (lookCloser && countedResult && !now.resultToken && now === batch)
      now = (await this.readBatch(batch.runId, batch.batch)) ?? now;
    if (now.resultToken && (await this.#resultsReached(now, lookCloser)))
      await this.#release(now, 'results', now.resultToken);
  }

  /**
   * Stores the task token of a wait, then checks the counts itself: replies may all be in
   * already, and ingest only releases waits whose token it can see.
   */
  async register(runId: string, batch: number, phase: Phase, token: string): Promise<void> {
    const item = (await this.items.update<BatchItem>(runId, batchSk(batch), {
      UpdateExpression: 'SET #t = :t',
      ConditionExpression: 'attribute_exists(runId)',
      ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase] },
      values: { ':t': token },
      ReturnValues: 'ALL_NEW',
    }))!;
    const acked = holdsAll(item.groupsAcked, groupsOf(item));
    const reached = phase === 'acks' ? acked : await this.#resultsReached(item, !acked);
    if (reached) await this.#release(item, phase, token);
  }

  /** Resumes a wait now, whatever the counts say (the run was cancelled). */
  async releaseNow(runId: string, batch: number, phase: Phase): Promise<void> {
    const batchItem = await this.readBatch(runId, batch);
    const token = batchItem?.[TOKEN_ATTR[phase]];
    if (batchItem && token) await this.#release(batchItem, phase, token);
  }

  /** Releases each wait of the batch (as read or written just now) whose set holds every group. */
  async releaseReached(seen: BatchItem): Promise<void> {
    const batch = await this.#asItIs(seen);
    if (batch.ackToken && holdsAll(batch.groupsAcked, groupsOf(batch)))
      await this.#release(batch, 'acks', batch.ackToken);
    if (batch.resultToken && holdsAll(batch.groupsDone, groupsOf(batch)))
      await this.#release(batch, 'results', batch.resultToken);
  }

  /**
   * Whether every host that acknowledged has reported: every group is done, or (`lookCloser`) each
   * group not done yet has a result from every host that acknowledged (its tally, read now). A
   * group all of whose hosts answered but that is not done lacks a result: no need to read it.
   */
  async #resultsReached(batch: BatchItem, lookCloser: boolean): Promise<boolean> {
    const count = groupsOf(batch);
    if (holdsAll(batch.groupsDone, count)) return true;
    if (!lookCloser) return false;
    const open = Array.from({ length: count }, (_, g) => g).filter((g) => !batch.groupsDone?.has(g));
    if (open.some((g) => batch.groupsAcked?.has(g))) return false;
    const tallies = await Promise.all(
      open.map((g) =>
        this.items.get<TallyItem>(groupPk(batch.runId, batch.batch, g), tallySk(batch.batch, g)),
      ),
    );
    return tallies.every((tally) => tally !== undefined && resultsComplete(tallyCounts(tally)));
  }

  /** Claims the token (only one caller wins) and resumes the state machine. */
  async #release(batch: BatchItem, phase: Phase, token: string): Promise<void> {
    const at = this.now();
    try {
      await this.items.update(batch.runId, batch.sk, {
        UpdateExpression: 'REMOVE #t SET #at = :now',
        ConditionExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': TOKEN_ATTR[phase], '#at': DONE_ATTR[phase] },
        values: { ':t': token, ':now': at },
      });
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return;
      throw error;
    }
    try {
      await this.sfn.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ phase }) }),
      );
      this.#released(batch, phase, at);
    } catch (error: unknown) {
      // The wait may have timed out already; the state machine has moved on without us.
      if (awsErrorName(error) === 'TaskTimedOut' || awsErrorName(error) === 'TaskDoesNotExist')
        return this.#released(batch, phase, at);
      // Put the token back, so the next reply or redelivery of this batch releases the wait; if
      // even that fails, the wait runs to its timeout, which the state machine treats as normal.
      await this.items
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
