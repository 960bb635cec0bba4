/** The dedupe store: claims, flushes, compaction, horizon, recovery from a damaged file, and the
 * cancelled state cancels rely on. */
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DedupeStore,
  DedupeStoreError,
  MIN_HORIZON_MS,
  type DedupeStoreOptions,
} from '#agent/receive/dedupe-store.ts';
import { MIN_DEDUPE_HORIZON_SEC } from '#shared/request-expiry.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

let dir: string;
let file: string;
const opened: DedupeStore[] = [];

function open(options: DedupeStoreOptions = {}): DedupeStore {
  const store = DedupeStore.open(file, options);
  opened.push(store);
  return store;
}

function fileLines(): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-dedupe-'));
  file = join(dir, 'state', 'seen.jsonl');
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DedupeStore', () => {
  it('claims a request once and refuses the second claim', () => {
    const store = open();

    expect(store.claim('RUN1#0')).toBe(true);
    expect(store.claim('RUN1#0')).toBe(false);
    expect(store.claim('RUN1#1')).toBe(true);
    expect(store.has('RUN1#0')).toBe(true);
    expect(store.size).toBe(2);
  });

  it('flushes claims to the file: many at once, all on disk when any flush resolves', async () => {
    const store = open();
    const keys = Array.from({ length: 20 }, (_, i) => `RUN1#${i}`);

    for (const key of keys) store.claim(key);
    await Promise.all(keys.map(() => store.flush()));

    expect(fileLines().map((l) => (JSON.parse(l) as { k: string }).k)).toEqual(keys);
    await expect(store.flush()).resolves.toBeUndefined();
  });

  it('closes the file only once a flush under way has ended', async () => {
    const store = open();
    store.claim('RUN1#0');

    const flushed = store.flush();
    store.close();

    await expect(flushed).resolves.toBeUndefined();
    expect(() => store.claim('RUN1#1')).toThrow(DedupeStoreError);
    expect(fileLines()).toHaveLength(1);
  });

  it('lets a claim that could not be made durable be forgotten and claimed again', () => {
    const store = open();
    store.claim('RUN1#0');

    store.forget('RUN1#0');

    expect(store.has('RUN1#0')).toBe(false);
    expect(store.claim('RUN1#0')).toBe(true);
  });

  it('remembers claims across a reopen', () => {
    const first = open();
    first.claim('RUN1#0');
    first.close();

    const second = open();

    expect(second.has('RUN1#0')).toBe(true);
    expect(second.claim('RUN1#0')).toBe(false);
  });

  it('lists requests claimed but never finished before a restart', () => {
    const first = open();
    first.claim('RUN1#0');
    first.claim('RUN2#0');
    first.markDone('RUN1#0');
    first.close();

    const second = open();

    expect(second.startedButNotDone()).toEqual(['RUN2#0']);
  });

  it('refuses to open a store with a damaged line, naming the file and what to do', () => {
    const good = (k: string) => JSON.stringify({ k, s: 'started', t: Date.now() }) + '\n';
    open().close();
    appendFileSync(file, good('RUN1#0'));
    appendFileSync(file, Buffer.from([0xff, 0x00, 0x13, 0x7b, 0x22, 0x0a]));
    appendFileSync(file, good('RUN2#0'));

    expect(() => open()).toThrow(DedupeStoreError);
    expect(() => open()).toThrow(/seen\.jsonl is damaged \(line 2 is not a record\).*will not start/);
  });

  it('refuses a line with an unknown state rather than guess', () => {
    open().close();
    appendFileSync(file, '{"k":"RUN9#0","s":"weird","t":1}\n');

    expect(() => open()).toThrow(/line 1 is not a record/);
  });

  it('drops a torn last line (an append a crash cut short) with a warning and keeps the rest', () => {
    const good = (k: string) => JSON.stringify({ k, s: 'started', t: Date.now() }) + '\n';
    open().close();
    appendFileSync(file, good('RUN1#0'));
    appendFileSync(file, good('RUN2#0'));
    appendFileSync(file, '{"k":"RUN3#0","s":"sta');
    const warnings: string[] = [];

    const store = open({ onWarning: (message) => warnings.push(message) });

    expect(warnings).toEqual([
      expect.stringMatching(/seen\.jsonl: dropped a torn last line.*kept 2 entries/),
    ]);
    expect(store.has('RUN3#0')).toBe(false);
    expect(store.claim('RUN4#0')).toBe(true);
    store.close();
    const reopened = open({ onWarning: (message) => warnings.push(message) });
    expect(warnings).toHaveLength(1);
    expect(reopened.startedButNotDone()).toEqual(['RUN1#0', 'RUN2#0', 'RUN4#0']);
  });

  it('refuses an age bound shorter than the longest a request lives', () => {
    expect(() => open({ maxAgeMs: (MIN_DEDUPE_HORIZON_SEC - 1) * 1000 })).toThrow(
      /remembering requests for 3601 s is shorter than the 3602 s a request can live/,
    );
  });

  it('forgets the oldest entries beyond the size bound once their requests can no longer arrive', () => {
    let now = 0;
    const store = open({ maxEntries: 3, now: () => now });

    for (const key of ['a', 'b', 'c', 'd', 'e']) store.claim(key);
    const withinHorizon = store.size;
    now = MIN_HORIZON_MS + 1;
    store.claim('f');

    expect(withinHorizon).toBe(5);
    expect(store.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e', 'f'].filter((key) => store.has(key))).toEqual(['d', 'e', 'f']);
  });

  it('forgets entries older than the age bound', () => {
    let now = 0;
    const store = open({ maxAgeMs: 7 * DAY_MS, now: () => now });
    store.claim('old');
    now = 3 * DAY_MS;
    store.claim('recent');
    now = 8 * DAY_MS;

    store.claim('new');

    expect(store.has('old')).toBe(false);
    expect(store.has('recent')).toBe(true);
    store.close();
    now = 11 * DAY_MS;
    expect(open({ maxAgeMs: 7 * DAY_MS, now: () => now }).startedButNotDone()).toEqual(['new']);
  });

  it('compacts the file to its live entries and keeps them', () => {
    let now = 0;
    const store = open({ maxEntries: 50, now: () => now });

    for (let i = 0; i < 500; i++) {
      now = i * (MIN_HORIZON_MS + 1);
      store.claim(`RUN${i}#0`);
      store.markDone(`RUN${i}#0`);
    }
    store.claim('RUN-last#0');

    expect(fileLines().length).toBeLessThanOrEqual(2 * 50 + 64);
    store.close();
    const reopened = open({ maxEntries: 50, now: () => now });
    expect(reopened.size).toBe(50);
    expect(reopened.has('RUN499#0')).toBe(true);
    expect(reopened.has('RUN0#0')).toBe(false);
    expect(reopened.startedButNotDone()).toEqual(['RUN-last#0']);
  });

  it('throws a typed error when the directory cannot be created', () => {
    writeFileSync(join(dir, 'not-a-dir'), '');

    expect(() => DedupeStore.open(join(dir, 'not-a-dir', 'seen.jsonl'))).toThrow(DedupeStoreError);
  });
});

describe('DedupeStore recovery', () => {
  beforeEach(() => {
    file = join(dir, 'dedupe.jsonl');
  });

  it('refuses to start on a file that is garbage from end to end, instead of forgetting what ran', () => {
    writeFileSync(file, Buffer.alloc(4096, 0));

    expect(() => open()).toThrow(DedupeStoreError);
    expect(() => open()).toThrow(
      /dedupe\.jsonl is damaged .*will not start without knowing which requests it already ran/,
    );
  });

  it('refuses to start on a file it cannot read, and leaves it where it is', () => {
    mkdirSync(file);

    expect(() => open()).toThrow(
      /cannot read dedupe store .*dedupe\.jsonl: .*make the file readable and restart/,
    );
    expect(readdirSync(dir)).toEqual(['dedupe.jsonl']);
  });
});

describe('DedupeStore states', () => {
  it('remembers a key claimed as cancelled across a restart, and never reports it as interrupted', () => {
    const first = open();
    expect(first.claim('RUN#0', 'cancelled')).toBe(true);
    first.markDone('RUN#0');
    first.close();

    const second = open();

    expect(second.stateOf('RUN#0')).toBe('cancelled');
    expect(second.claim('RUN#0')).toBe(false);
    expect(second.startedButNotDone()).toEqual([]);
  });

  it('records a key claimed as done durably, without it ever counting as started', () => {
    const first = open();
    first.claim('RUN#0#cancel', 'done');
    first.close();

    expect(open().stateOf('RUN#0#cancel')).toBe('done');
  });
});
