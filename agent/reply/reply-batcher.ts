/**
 * Sends reply bodies to one queue in `SendMessageBatch` calls, for every agent of a process.
 * Bodies handed over in the same turn of the event loop, or while `maxInFlight` calls are on
 * their way, go out together (up to 10 a call, and 256 KiB). An agent alone on its host sends
 * each reply in a call of its own, at once; fifty agents in one process (a demo fleet, a load
 * test) send their results in a tenth of the calls. `sqs:SendMessage` allows the batch call.
 *
 * A body that can wait (`lingerMs`) is held up to that long for company: it rides along in the
 * next call that has room, and once ten wait they go together. The agents of one process give
 * every reply a few milliseconds (their commands end one after another, each result alone in a
 * call otherwise), and the periodic heartbeats a second: a thousand agents beating every 30 s are
 * 33 heartbeats a second, nearly all in calls of their own without it.
 */
import { SendMessageBatchCommand, type BatchResultErrorEntry, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS's limits on one SendMessageBatch call (the byte limit as it was for every queue until 2025). */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export interface ReplyBatcherOptions {
  /** Calls on their way at once; more bodies wait for one of them to return. 4 by default. */
  maxInFlight?: number;
  /**
   * How long any body may wait for company (see `send`); 0 by default, as for an agent alone on
   * its host, which has none to wait for.
   */
  lingerMs?: number;
}

interface Pending {
  body: string;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** An entry SQS did not take: named by SQS's code, a server fault unless SQS blamed the sender. */
export class BatchEntryError extends Error {
  readonly $fault: 'client' | 'server';

  constructor(entry: Partial<Pick<BatchResultErrorEntry, 'Code' | 'Message' | 'SenderFault'>>) {
    super(entry.Message ?? `SendMessageBatch entry failed (${entry.Code ?? 'no code'})`);
    this.name = entry.Code ?? 'BatchEntryError';
    this.$fault = entry.SenderFault ? 'client' : 'server';
  }
}

export class ReplyBatcher {
  readonly #waiting: Pending[] = [];
  /** Bodies that may wait for company (see `send`), oldest first; sent by `#lingerTimer` at the latest. */
  #lingering: Pending[] = [];
  #lingerTimer: NodeJS.Timeout | undefined;
  /** When `#lingerTimer` fires (epoch ms): the earliest time any lingering body is due. */
  #lingerUntil = Infinity;
  readonly #maxInFlight: number;
  readonly #lingerMs: number;
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    options: ReplyBatcherOptions = {},
  ) {
    this.#maxInFlight = options.maxInFlight ?? 4;
    this.#lingerMs = options.lingerMs ?? 0;
  }

  /**
   * Resolves once SQS took `body`; rejects with the call's error, or the entry's (BatchEntryError).
   * The body may wait `lingerMs` (the batcher's own if longer) for others to share a call with.
   */
  send(body: string, options: { lingerMs?: number } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      const pending = { body, bytes: Buffer.byteLength(body), resolve, reject };
      const lingerMs = Math.max(options.lingerMs ?? 0, this.#lingerMs);
      if (lingerMs <= 0) {
        this.#waiting.push(pending);
        this.#schedule();
        return;
      }
      this.#lingering.push(pending);
      if (this.#lingering.length >= MAX_ENTRIES) return this.flush();
      const until = Date.now() + lingerMs;
      if (until >= this.#lingerUntil) return;
      clearTimeout(this.#lingerTimer);
      this.#lingerUntil = until;
      this.#lingerTimer = setTimeout(() => this.flush(), lingerMs);
    });
  }

  /** Sends what lingers now (a full call's worth, the earliest due, or the agent stopping). */
  flush(): void {
    this.#stopLingerTimer();
    if (this.#lingering.length === 0) return;
    this.#waiting.push(...this.#lingering);
    this.#lingering = [];
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight >= this.#maxInFlight || this.#waiting.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      while (this.#inFlight < this.#maxInFlight && this.#waiting.length > 0)
        void this.#sendBatch(this.#take());
    });
  }

  /** The next bodies in arrival order, as many as one call may carry (always at least one). */
  #take(): Pending[] {
    const batch = [this.#waiting.shift()!];
    const bytes = fill(batch, batch[0]!.bytes, this.#waiting);
    // Room left: lingering bodies ride along (they are sent no later than this anyway).
    fill(batch, bytes, this.#lingering);
    if (this.#lingering.length === 0) this.#stopLingerTimer();
    return batch;
  }

  #stopLingerTimer(): void {
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = undefined;
    this.#lingerUntil = Infinity;
  }

  async #sendBatch(batch: Pending[]): Promise<void> {
    this.#inFlight++;
    try {
      const out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((p, i) => ({ Id: String(i), MessageBody: p.body })),
        }),
      );
      const taken = new Set((out.Successful ?? []).map((entry) => entry.Id));
      const failed = new Map((out.Failed ?? []).map((entry) => [entry.Id, entry]));
      batch.forEach((p, i) => {
        const id = String(i);
        if (taken.has(id)) p.resolve();
        else p.reject(new BatchEntryError(failed.get(id) ?? { Message: 'SQS did not report on this entry' }));
      });
    } catch (error: unknown) {
      for (const p of batch) p.reject(error);
    } finally {
      this.#inFlight--;
      this.#schedule();
    }
  }
}

/** Moves bodies from the front of `from` into `batch` while one call may carry them; returns the batch's bytes. */
function fill(batch: Pending[], bytes: number, from: Pending[]): number {
  while (batch.length < MAX_ENTRIES && from.length > 0 && bytes + from[0]!.bytes <= MAX_BATCH_BYTES) {
    const next = from.shift()!;
    bytes += next.bytes;
    batch.push(next);
  }
  return bytes;
}
