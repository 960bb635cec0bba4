/**
 * The agent's memory of the requests it has taken on, on disk, so each request runs at most once
 * even when the inbox redelivers it after a restart or a crash. An append-only file of JSON lines,
 * `{"k":key,"s":"started"|"done"|"cancelled"|"refused","t":ms}`, compacted when it grows to twice
 * its live entries. A store that cannot be read, or whose lines are damaged, stops the agent with
 * a {@link DedupeStoreError}: starting with an empty memory would run again the requests it forgot
 * (their messages are still in the inbox, or come back). Only a torn last line is dropped: a
 * write a crash cut short, never fsynced, so nothing was done on its claim.
 */
import {
  closeSync,
  fsync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { MIN_DEDUPE_HORIZON_SEC } from '#shared/request-expiry.ts';

export const DEFAULT_MAX_ENTRIES = 10_000;
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * How long an entry is kept whatever `maxEntries` says, and the least `maxAgeMs` may be: as long
 * as any request can still be delivered and pass its expiry check, on a clock within the allowed
 * skew. Forgetting a request sooner would let a redelivered copy run again.
 */
export const MIN_HORIZON_MS = MIN_DEDUPE_HORIZON_SEC * 1000;

/** Below this many lines the file is never compacted: rewriting it would buy nothing. */
const MIN_LINES_TO_COMPACT = 64;

/** A last line longer than this, cut short, is damage rather than a torn append (records are ~80 bytes). */
const MAX_TORN_LINE_BYTES = 1024;

/**
 * `cancelled`: a cancel arrived before the request itself, which must then never run.
 * `refused`: the agent refused the request (policy, filter, busy): a redelivered copy is dropped.
 */
export type EntryState = 'started' | 'done' | 'cancelled' | 'refused';

interface Entry {
  state: EntryState;
  /** When the key was first claimed (or first seen, for a key known only as done). */
  t: number;
}

export interface DedupeStoreOptions {
  maxEntries?: number;
  maxAgeMs?: number;
  now?: () => number;
  /** Told when a torn last line (an append a crash cut short) was dropped. */
  onWarning?: (message: string) => void;
}

/** The store's file or directory cannot be read or written; dedupe cannot be guaranteed. */
export class DedupeStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DedupeStoreError';
  }
}

/**
 * Request ids (`<runId>#<batch>`) the agent has claimed, and whether each finished. Entries older
 * than `maxAgeMs` are forgotten, and the oldest beyond `maxEntries` once they are older than
 * {@link MIN_HORIZON_MS}: by then their requests have expired. The store may hold more than
 * `maxEntries` entries rather than forget a request that could still arrive.
 * Claims are written at once (so a crash of the agent cannot lose them) and made durable against
 * a crash of the host by {@link DedupeStore.flush}, which the caller awaits before acting on a
 * claim: one fsync, off the event loop, covers every claim written before it started.
 */
export class DedupeStore {
  private readonly entries = new Map<string, Entry>();
  private fd: number | undefined;
  private linesInFile = 0;
  /** Lines written / known to be on disk, counted since open; a flush waits for the first to reach the second. */
  private written = 0;
  private synced = 0;
  private syncing: Promise<void> | undefined;
  private closeAfterSync = false;

  private constructor(
    private readonly filePath: string,
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  /**
   * Opens (or creates, with its parent directories) the store at `filePath`. A torn last line is
   * dropped with a warning naming the file, and the file is rewritten clean. Throws
   * {@link DedupeStoreError} when the file cannot be read or written, when a line is damaged, or
   * when `maxAgeMs` is shorter than the longest a request lives.
   */
  static open(filePath: string, options: DedupeStoreOptions = {}): DedupeStore {
    const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    if (maxAgeMs < MIN_HORIZON_MS) {
      throw new DedupeStoreError(
        `dedupe store ${filePath}: remembering requests for ${maxAgeMs / 1000} s is shorter than the ` +
          `${MIN_HORIZON_MS / 1000} s a request can live (dedupe.max_age_sec must be at least ${MIN_HORIZON_MS / 1000})`,
      );
    }
    const store = new DedupeStore(
      filePath,
      options.maxEntries ?? DEFAULT_MAX_ENTRIES,
      maxAgeMs,
      options.now ?? Date.now,
    );
    try {
      mkdirSync(dirname(filePath), { recursive: true });
    } catch (e: unknown) {
      throw new DedupeStoreError(
        `cannot create the directory of dedupe store ${filePath}: ${messageOf(e)}; check the agent's state directory`,
        { cause: e },
      );
    }
    const { tornTail, endsCleanly } = store.load();
    if (tornTail) {
      options.onWarning?.(
        `${filePath}: dropped a torn last line (an append cut short by a crash); kept ${store.entries.size} entries`,
      );
    }
    if (tornTail || !endsCleanly) store.compact();
    else store.openForAppend();
    store.compactIfBloated();
    return store;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** What the store knows of `key`, if anything. */
  stateOf(key: string): EntryState | undefined {
    return this.entries.get(key)?.state;
  }

  /**
   * Claims `key`: true if it was never seen (now recorded in `state`, `started` by default, and
   * written to the file), false if it was already claimed. Await {@link flush} before acting on
   * the claim. Throws {@link DedupeStoreError} if it cannot be written; the key is then not claimed.
   */
  claim(key: string, state: EntryState = 'started'): boolean {
    this.evict();
    if (this.entries.has(key)) return false;
    const t = this.now();
    this.append({ k: key, s: state, t });
    this.entries.set(key, { state, t });
    this.evict();
    this.compactIfBloated();
    return true;
  }

  /** Records that the request `key` finished (whatever its outcome). */
  markDone(key: string): void {
    const entry = this.entries.get(key);
    if (entry !== undefined && entry.state !== 'started') return;
    const t = entry?.t ?? this.now();
    this.append({ k: key, s: 'done', t });
    if (entry) entry.state = 'done';
    else this.entries.set(key, { state: 'done', t });
    this.evict();
    this.compactIfBloated();
  }

  /**
   * Resolves once every line written so far is on disk (fsync in the thread pool, so the event loop
   * and the other agents of the process go on meanwhile). Concurrent callers share one fsync.
   * Rejects with {@link DedupeStoreError} if the disk refuses.
   */
  async flush(): Promise<void> {
    const target = this.written;
    while (this.synced < target) {
      if (this.syncing === undefined) this.syncing = this.syncOnce();
      await this.syncing;
    }
  }

  /** Forgets `key` (its claim could not be made durable, so it must be claimable again). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  private syncOnce(): Promise<void> {
    const fd = this.fd;
    const upTo = this.written;
    return new Promise<void>((resolve, reject) => {
      if (fd === undefined) {
        this.syncing = undefined;
        reject(new DedupeStoreError(`dedupe store ${this.filePath} is closed`));
        return;
      }
      fsync(fd, (error) => {
        this.syncing = undefined;
        if (this.closeAfterSync) this.close();
        if (error) {
          reject(
            new DedupeStoreError(`cannot sync dedupe store ${this.filePath}: ${error.message}`, {
              cause: error,
            }),
          );
          return;
        }
        this.synced = Math.max(this.synced, upTo);
        resolve();
      });
    });
  }

  /** Keys claimed but never marked done: requests interrupted by a crash (or still running). */
  startedButNotDone(): string[] {
    return [...this.entries].filter(([, entry]) => entry.state === 'started').map(([key]) => key);
  }

  /** Closes the file; with a flush under way, as soon as it ends (the fd must outlive its fsync). */
  close(): void {
    if (this.fd === undefined) return;
    if (this.syncing !== undefined) {
      this.closeAfterSync = true;
      return;
    }
    this.closeAfterSync = false;
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** Reads the file; throws DedupeStoreError unless every line but a torn last one is a record. */
  private load(): { tornTail: boolean; endsCleanly: boolean } {
    let text: string;
    try {
      text = readFileSync(this.filePath, 'utf8');
    } catch (e: unknown) {
      if (isErrno(e, 'ENOENT')) return { tornTail: false, endsCleanly: true };
      throw new DedupeStoreError(
        `cannot read dedupe store ${this.filePath}: ${messageOf(e)}. The agent will not start without ` +
          `knowing which requests it already ran: make the file readable and restart`,
        { cause: e },
      );
    }
    let tornTail = false;
    const lines = text.split('\n');
    // The last element is what follows the final newline: empty unless a write was cut short.
    const endsCleanly = lines.at(-1) === '';
    if (endsCleanly) lines.pop();
    for (const [index, line] of lines.entries()) {
      this.linesInFile++;
      const record = parseRecord(line);
      if (record === undefined) {
        const isTail = !endsCleanly && index === lines.length - 1;
        if (isTail && Buffer.byteLength(line) <= MAX_TORN_LINE_BYTES && !line.includes('\0')) {
          tornTail = true;
          continue;
        }
        throw new DedupeStoreError(
          `dedupe store ${this.filePath} is damaged (line ${index + 1} is not a record). The agent ` +
            `will not start without knowing which requests it already ran. Once every request it ` +
            `may hold has expired (${MIN_HORIZON_MS / 1000} s after the agent last ran), move the ` +
            `file aside and restart; docs/agent.md, "Replays", says more`,
        );
      }
      const existing = this.entries.get(record.k);
      if (existing) {
        if (existing.state === 'started' && record.s === 'done') existing.state = 'done';
      } else {
        this.entries.set(record.k, { state: record.s, t: record.t });
      }
      if (this.entries.size > this.maxEntries) this.evict();
    }
    this.evict();
    return { tornTail, endsCleanly };
  }

  /**
   * Drops entries older than `maxAgeMs`, then the oldest beyond `maxEntries` that are past the
   * horizon (the map keeps claim order): an entry whose request could still arrive is kept.
   */
  private evict(): void {
    const now = this.now();
    const oldestKept = now - this.maxAgeMs;
    const horizon = now - MIN_HORIZON_MS;
    for (const [key, entry] of this.entries) {
      const tooOld = entry.t < oldestKept;
      const overSize = this.entries.size > this.maxEntries && entry.t < horizon;
      if (!tooOld && !overSize) break;
      this.entries.delete(key);
    }
  }

  /** Not while a flush is under way: compaction replaces the file (and the fd) being synced. */
  private compactIfBloated(): void {
    if (this.syncing !== undefined) return;
    if (this.linesInFile > Math.max(2 * this.entries.size, MIN_LINES_TO_COMPACT)) this.compact();
  }

  /** Rewrites the file with one line per live entry, atomically (temp file, fsync, rename). */
  private compact(): void {
    this.close();
    const tempPath = `${this.filePath}.${process.pid}.tmp`;
    const lines = [...this.entries].map(([k, e]) => JSON.stringify({ k, s: e.state, t: e.t }) + '\n');
    try {
      const fd = openSync(tempPath, 'w');
      try {
        writeSync(fd, lines.join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tempPath, this.filePath);
      syncDirectory(dirname(this.filePath));
    } catch (e: unknown) {
      try {
        unlinkSync(tempPath);
      } catch {
        // The temp file may never have been created; the original error is the one to report.
      }
      throw new DedupeStoreError(`cannot rewrite dedupe store ${this.filePath}: ${messageOf(e)}`, {
        cause: e,
      });
    }
    this.linesInFile = lines.length;
    // The rewritten file was synced whole: everything written so far is durable.
    this.synced = this.written;
    this.openForAppend();
  }

  private openForAppend(): void {
    try {
      this.fd = openSync(this.filePath, 'a');
    } catch (e: unknown) {
      throw new DedupeStoreError(
        `cannot open dedupe store ${this.filePath} for writing: ${messageOf(e)}; check the agent's state directory is writable`,
        { cause: e },
      );
    }
  }

  private append(record: { k: string; s: EntryState; t: number }): void {
    if (this.fd === undefined || this.closeAfterSync)
      throw new DedupeStoreError(`dedupe store ${this.filePath} is closed`);
    try {
      writeSync(this.fd, JSON.stringify(record) + '\n');
      this.written++;
    } catch (e: unknown) {
      throw new DedupeStoreError(`cannot write to dedupe store ${this.filePath}: ${messageOf(e)}`, {
        cause: e,
      });
    }
    this.linesInFile++;
  }
}

function parseRecord(line: string): { k: string; s: EntryState; t: number } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { k, s, t } = value as Record<string, unknown>;
  if (
    typeof k !== 'string' ||
    (s !== 'started' && s !== 'done' && s !== 'cancelled' && s !== 'refused') ||
    typeof t !== 'number' ||
    !Number.isFinite(t)
  ) {
    return undefined;
  }
  return { k, s, t };
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function isErrno(e: unknown, code: string): boolean {
  return e instanceof Error && 'code' in e && e.code === code;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
