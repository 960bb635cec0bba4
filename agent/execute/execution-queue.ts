/**
 * The agent's bounded concurrency: at most `concurrency` commands run at once, at most `limit`
 * more wait their turn (beyond that the agent says it is busy), in arrival order. Each entry has
 * an AbortSignal, so a cancel stops a running command; a waiting entry is taken out of the queue
 * and never starts. On stop, waiting entries are handed back instead of started.
 */
export interface QueueLimits {
  concurrency: number;
  /** Entries allowed to wait for a slot. */
  limit: number;
}

export type CancelOutcome<T> = { state: 'running' } | { state: 'waiting'; item: T } | undefined;

interface Waiting<T> {
  key: string;
  item: T;
}

export class ExecutionQueue<T> {
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  #waiting: Waiting<T>[] = [];
  #closed = false;

  /**
   * `run` executes one entry and must not reject: report failures inside it. It is given a signal
   * that aborts on cancel, or when a stop's grace period runs out.
   */
  constructor(
    private limits: QueueLimits,
    private readonly run: (key: string, item: T, signal: AbortSignal) => Promise<void>,
  ) {}

  get running(): number {
    return this.#running.size;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  setLimits(limits: QueueLimits): void {
    this.limits = limits;
    this.#pump();
  }

  /** Why another entry cannot be taken on now (every slot busy and the queue full), if so. */
  busy(): string | undefined {
    if (this.#closed) return 'agent is shutting down';
    if (this.#running.size < this.limits.concurrency || this.#waiting.length < this.limits.limit)
      return undefined;
    return `agent busy: ${this.#running.size} commands running and ${this.#waiting.length} waiting (queue_limit ${this.limits.limit})`;
  }

  has(key: string): boolean {
    return this.#running.has(key) || this.#waiting.some((w) => w.key === key);
  }

  /** Runs `item` as soon as a slot is free. */
  enqueue(key: string, item: T): void {
    this.#waiting.push({ key, item });
    this.#pump();
  }

  /** Aborts the running entry `key`, or takes it out of the queue so it never starts. */
  cancel(key: string): CancelOutcome<T> {
    const running = this.#running.get(key);
    if (running) {
      running.controller.abort();
      return { state: 'running' };
    }
    const index = this.#waiting.findIndex((w) => w.key === key);
    if (index < 0) return undefined;
    const [taken] = this.#waiting.splice(index, 1);
    return { state: 'waiting', item: taken!.item };
  }

  /**
   * Starts nothing more and returns what was still waiting. Running entries get `graceMs` to
   * finish, then their signals abort; resolves once they have all ended.
   */
  async stop(graceMs: number): Promise<Waiting<T>[]> {
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = [];
    const all = Promise.allSettled([...this.#running.values()].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'grace over'>((resolve) => {
      timer = setTimeout(() => resolve('grace over'), graceMs);
    });
    if ((await Promise.race([all, graceOver])) === 'grace over') {
      for (const running of this.#running.values()) running.controller.abort();
      await all;
    }
    clearTimeout(timer);
    return waiting;
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < this.limits.concurrency && this.#waiting.length > 0) {
      const { key, item } = this.#waiting.shift()!;
      const controller = new AbortController();
      const done = this.run(key, item, controller.signal).finally(() => {
        this.#running.delete(key);
        this.#pump();
      });
      this.#running.set(key, { controller, done });
    }
  }
}
