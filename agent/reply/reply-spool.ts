/**
 * Replies the agent could not send, kept on disk (`<state_dir>/outbox/`, one file each) until the
 * replies queue takes them: a result is the only record of what a command did, so an outage
 * longer than the sender's retries, or a stop in the middle of one, must not lose it. Files are
 * written whole (temp file, fsync, rename) and sent oldest first; a file is removed only once SQS
 * took its reply. Survives restarts: the agent sends what is left when it starts.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { isMissingQueue } from '#shared/aws.ts';
import { isTransient } from '../backoff.ts';
import type { AgentLog } from '../json-log.ts';

/** Rounds a reply SQS refuses for a reason of its own (not an outage) is tried before it is set aside. */
const REFUSALS_BEFORE_SET_ASIDE = 3;

export interface ReplySpoolOptions {
  /** Pause between attempts to send what is kept while the queue stays unreachable; 5 s. */
  retryMs?: number;
}

export class ReplySpool {
  readonly #refusals = new Map<string, number>();
  readonly #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #draining: Promise<void> | undefined;
  #seq = 0;
  #stopped = false;
  /** Files kept, as far as this process knows: read from the directory once, then counted. */
  #kept: number;

  constructor(
    private readonly dir: string,
    private readonly send: (body: string) => Promise<void>,
    private readonly log: AgentLog,
    options: ReplySpoolOptions = {},
  ) {
    this.#retryMs = options.retryMs ?? 5_000;
    this.#kept = this.pending().length;
  }

  /** True while replies are kept: the sender then drains the spool after each reply it gets through. */
  get hasPending(): boolean {
    return this.#kept > 0;
  }

  /** Keeps `body` on disk and schedules sending it. Throws if the disk refuses (the caller logs the loss). */
  keep(body: string): void {
    mkdirSync(this.dir, { recursive: true });
    // Names sort in the order replies were kept: time, then a counter within the millisecond.
    const name = `${String(Date.now()).padStart(15, '0')}-${String(this.#seq++).padStart(6, '0')}-${process.pid}.json`;
    const temp = join(this.dir, `.${name}.tmp`);
    const fd = openSync(temp, 'w');
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(this.dir, name));
    this.#kept++;
    this.#schedule();
  }

  /** Replies kept and not yet sent. */
  pending(): string[] {
    try {
      return readdirSync(this.dir)
        .filter((name) => name.endsWith('.json'))
        .sort();
    } catch {
      return [];
    }
  }

  /** Sends what is kept, oldest first, until done or the queue fails again. Concurrent calls share one round. */
  drain(): Promise<void> {
    this.#draining ??= this.#drainOnce().finally(() => {
      this.#draining = undefined;
      this.#kept = this.pending().length;
      if (this.#kept > 0) this.#schedule();
    });
    return this.#draining;
  }

  /** Stops retrying on a timer (what is kept stays on disk for the next start). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.drain();
    }, this.#retryMs);
    this.#timer.unref();
  }

  async #drainOnce(): Promise<void> {
    for (const name of this.pending()) {
      const path = join(this.dir, name);
      let body: string;
      try {
        body = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      try {
        await this.send(body);
      } catch (error: unknown) {
        if (isTransient(error) || isMissingQueue(error)) return;
        this.#refused(name, body, error);
        continue;
      }
      this.#refusals.delete(name);
      rmSync(path, { force: true });
      this.log.info('sent a reply kept while the replies queue was unreachable', { file: name });
    }
  }

  /** A reply SQS keeps refusing (too large, say) is set aside as `<name>.refused`, loudly, not retried forever. */
  #refused(name: string, body: string, error: unknown): void {
    const count = (this.#refusals.get(name) ?? 0) + 1;
    this.#refusals.set(name, count);
    if (count < REFUSALS_BEFORE_SET_ASIDE) return;
    this.#refusals.delete(name);
    renameSync(join(this.dir, name), join(this.dir, `${name}.refused`));
    this.log.error('the replies queue refuses a kept reply; set aside, not sent', {
      file: `${name}.refused`,
      bytes: Buffer.byteLength(body),
      error,
    });
  }
}
