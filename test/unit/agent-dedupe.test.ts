/** The dedupe store's recovery from a damaged file, and the cancelled state cancels rely on. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DedupeStore, DedupeStoreError } from '#agent/receive/dedupe-store.ts';

let dir: string;
let file: string;
const opened: DedupeStore[] = [];

function open(onWarning?: (message: string) => void): DedupeStore {
  const store = DedupeStore.open(file, { onWarning });
  opened.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-dedupe-'));
  file = join(dir, 'dedupe.jsonl');
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DedupeStore recovery', () => {
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
