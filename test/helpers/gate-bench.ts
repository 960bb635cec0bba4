/**
 * The request gate's test bench (test/unit/request-gate.test.ts): the dispatch key pair and an
 * impostor's, a fresh dedupe store for every test (in its own temporary directory), and the
 * gate's context around them.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { DedupeStore } from '#agent/receive/dedupe-store.ts';
import type { GateContext } from '#agent/receive/request-gate.ts';
import type { HostFacts } from '#shared/filter/index.ts';
import { LocalKeySigner } from '#shared/signing.ts';
import { tempDirPerTest } from './temp-dir.ts';

export const NODE_ID = 'web-1';
export const NOW = 1_700_000_000_000;

export function keyPair(keyId: string): { signer: LocalKeySigner; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return { signer: new LocalKeySigner(keyId, pem), publicKey };
}

/**
 * Call at the top of a test file; `host` says who the gate's host is at each check, `keyId` is
 * the name both key pairs sign under (the gate names it when a signature does not verify).
 */
export function gateBench(host: () => HostFacts, keyId = 'file:test-key.pem') {
  const tmp = tempDirPerTest('drover-gate-');
  const storePath = () => join(tmp.path(), 'dedupe.jsonl');
  const bench = {
    dispatch: keyPair(keyId),
    impostor: keyPair(keyId),
    /** This test's dedupe store. */
    dedupe: undefined as unknown as DedupeStore,
    /** Closes the dedupe store and opens it again from its file, as an agent restart does. */
    reopen(): void {
      bench.dedupe.close();
      bench.dedupe = DedupeStore.open(storePath());
    },
    gate(overrides: Partial<GateContext> = {}): GateContext {
      return {
        nodeId: NODE_ID,
        publicKey: bench.dispatch.publicKey,
        dedupe: bench.dedupe,
        host,
        now: () => NOW,
        ...overrides,
      };
    },
  };
  beforeEach(() => {
    bench.dedupe = DedupeStore.open(storePath());
  });
  afterEach(() => {
    bench.dedupe.close();
  });
  return bench;
}
