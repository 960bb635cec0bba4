/** The dedupe store's recovery from a damaged file, and the cancelled state cancels rely on. */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DedupeStore } from '#agent/dedupe-store.ts';

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
  it('starts empty with a warning when the file is garbage from end to end', () => {
    writeFileSync(file, Buffer.alloc(4096, 0));
    const warnings: string[] = [];

    const store = open((m) => warnings.push(m));

    expect(store.size).toBe(0);
    expect(warnings).toEqual([
      expect.stringMatching(/skipped 1 corrupted or truncated line\(s\); kept 0 entries/),
    ]);
    expect(store.claim('RUN#0')).toBe(true);
  });

  it('moves a file it cannot read aside and starts empty with a warning, instead of refusing to run', () => {
    mkdirSync(file);
    const warnings: string[] = [];

    const store = open((m) => warnings.push(m));

    expect(warnings).toEqual([
      expect.stringMatching(/cannot be read .*; moved to .*unreadable-\d+ and starting with an empty store/),
    ]);
    expect(readdirSync(dir).some((name) => name.startsWith('dedupe.jsonl.unreadable-'))).toBe(true);
    expect(store.claim('RUN#0')).toBe(true);
    store.close();
    expect(open().has('RUN#0')).toBe(true);
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
