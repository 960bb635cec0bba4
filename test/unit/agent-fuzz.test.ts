/**
 * Random and mutated messages thrown at the request gate: none may be accepted (so none can
 * execute anything) and none may make the gate throw (so none can crash the agent's loop).
 * Seeded, so a failure names the input that caused it and reproduces.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest, type GateContext } from '#agent/request-gate.ts';
import { DedupeStore } from '#agent/dedupe-store.ts';
import { LocalKeySigner } from '#shared/signing.ts';
import { MESSAGE_VERSION } from '#shared/messages.ts';
import { signedRequest } from '../helpers/factories.ts';

const NODE_ID = 'web-1';
const ROUNDS = 2_000;

const keys = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    signer: new LocalKeySigner('dispatch', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    publicKey,
  };
};
const dispatch = keys();
const impostor = keys();

let dir: string;
let dedupe: DedupeStore;
let ctx: GateContext;
let original: string;
let document: string;

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(random: () => number, depth = 0): unknown {
  const pick = Math.floor(random() * (depth > 2 ? 6 : 8));
  const text = () =>
    Array.from({ length: Math.floor(random() * 12) }, () =>
      String.fromCharCode(Math.floor(random() * 0x2ff)),
    ).join('');
  switch (pick) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return Math.floor(random() * 2 ** 40) * (random() < 0.5 ? -1 : 1);
    case 3:
      return random() * 1e6;
    case 4:
      return text();
    case 5:
      return ['exec', 'ping', 'cancel', NODE_ID, 'ECDSA_SHA_256', ''][Math.floor(random() * 6)];
    case 6:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
    default: {
      const fields = [
        'v',
        'nodeId',
        'request',
        'signature',
        'runId',
        'batch',
        'action',
        'command',
        'targets',
        'x',
      ];
      return Object.fromEntries(
        fields.filter(() => random() < 0.5).map((f) => [f, randomValue(random, depth + 1)]),
      );
    }
  }
}

/** One fuzzed message body, of one of several kinds. */
async function fuzzedBody(random: () => number): Promise<string> {
  const kind = Math.floor(random() * 6);
  if (kind === 0) return JSON.stringify(randomValue(random));
  if (kind === 1) {
    // Flip a few characters anywhere in a valid message.
    const chars = [...original];
    for (let i = 0; i < 1 + Math.floor(random() * 4); i++) {
      chars[Math.floor(random() * chars.length)] = String.fromCharCode(Math.floor(random() * 0x7f));
    }
    return chars.join('');
  }
  const envelope = JSON.parse(original) as Record<string, unknown>;
  const request = JSON.parse(document) as Record<string, unknown>;
  const field = Object.keys(request)[Math.floor(random() * Object.keys(request).length)]!;
  request[field] = randomValue(random);
  if (kind === 2) {
    // The request changed after signing.
    return JSON.stringify({ ...envelope, request: JSON.stringify(request) });
  }
  if (kind === 3) {
    // A well-formed request, signed by someone else, perhaps asking to run something.
    const forged = JSON.stringify({ ...JSON.parse(document), command: { shell: 'touch /tmp/pwned' } });
    return JSON.stringify({ ...envelope, request: forged, signature: await impostor.signer.sign(forged) });
  }
  if (kind === 4) {
    // Envelope fields replaced with random values.
    const name = ['v', 'nodeId', 'request', 'signature'][Math.floor(random() * 4)]!;
    return JSON.stringify({ ...envelope, [name]: randomValue(random) });
  }
  // Truncated.
  return original.slice(0, Math.floor(random() * original.length));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'drover-fuzz-'));
  dedupe = DedupeStore.open(join(dir, 'dedupe.jsonl'));
  ctx = {
    nodeId: NODE_ID,
    publicKey: dispatch.publicKey,
    dedupe,
    host: () => ({ identity: NODE_ID, facts: {}, classes: [] }),
    now: () => Date.now(),
  };
  document = JSON.stringify(signedRequest({ targets: [NODE_ID], command: { shell: 'true' } }));
  original = JSON.stringify({
    v: MESSAGE_VERSION,
    nodeId: NODE_ID,
    request: document,
    signature: await dispatch.signer.sign(document),
  });
  // The original runs once; any mutation that stays authentic is then a replay.
  expect(checkRequest(original, ctx).kind).toBe('accept');
});

afterAll(() => {
  dedupe.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('request gate under fuzzing', () => {
  it(`accepts none of ${ROUNDS} random and mutated messages and never throws`, async () => {
    const seed = Number(process.env.DROVER_FUZZ_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const kinds = new Map<string, number>();

    for (let round = 0; round < ROUNDS; round++) {
      const body = await fuzzedBody(random);
      let kind: string;
      try {
        kind = checkRequest(body, ctx).kind;
      } catch (e: unknown) {
        throw new Error(
          `seed ${seed}, round ${round}: the gate threw ${String(e)} for ${JSON.stringify(body)}`,
          { cause: e },
        );
      }
      expect(['drop', 'reject'], `seed ${seed}, round ${round}: ${body}`).toContain(kind);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }

    expect(kinds.get('drop')).toBeGreaterThan(ROUNDS / 2);
    expect(dedupe.size).toBe(1);
  });
});
