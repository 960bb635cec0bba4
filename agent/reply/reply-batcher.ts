/**
 * Sends reply bodies to one queue in `SendMessageBatch` calls, for every agent of a process.
 * Bodies handed over in the same turn of the event loop, or while `maxInFlight` calls are on
 * their way, go out together (up to 10 a call, and 256 KiB). An agent alone on its host sends
 * each reply in a call of its own, at once; fifty agents in one process (a demo fleet, a load
 * test) send their results in a tenth of the calls. `sqs:SendMessage` allows the batch call.
 */
import { SendMessageBatchCommand, type BatchResultErrorEntry, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS's limits on one SendMessageBatch call (the byte limit as it was for every queue until 2025). */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;

export interface ReplyBatcherOptions {
  /** Calls on their way at once; more bodies wait for one of them to return. 4 by default. */
  maxInFlight?: number;
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
  readonly #maxInFlight: number;
  #inFlight = 0;
  #scheduled = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    options: ReplyBatcherOptions = {},
  ) {
    this.#maxInFlight = options.maxInFlight ?? 4;
  }

  /** Resolves once SQS took `body`; rejects with the call's error, or the entry's (BatchEntryError). */
  send(body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ body, bytes: Buffer.byteLength(body), resolve, reject });
      this.#schedule();
    });
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
    let bytes = batch[0]!.bytes;
    while (
      batch.length < MAX_ENTRIES &&
      this.#waiting.length > 0 &&
      bytes + this.#waiting[0]!.bytes <= MAX_BATCH_BYTES
    ) {
      const next = this.#waiting.shift()!;
      bytes += next.bytes;
      batch.push(next);
    }
    return batch;
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
