/**
 * Random and mutated messages thrown at the request gate (fast-check property): none may be
 * accepted (so none can execute anything) and none may make the gate throw (so none can crash the
 * agent's loop). A failure is shrunk to its smallest message and printed with its seed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkRequest, type GateContext } from '#agent/receive/request-gate.ts';
import { DedupeStore } from '#agent/receive/dedupe-store.ts';
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
/** A well-formed request signed by the impostor's key (signing is asynchronous: made once). */
let forged: string;

const FIELDS = ['v', 'nodeId', 'request', 'signature', 'runId', 'batch', 'action', 'command', 'targets', 'x'];

/** Any JSON value, with the words and field names of requests more often than chance would give. */
const { value: jsonValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.double({ noNaN: false }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.constantFrom('exec', 'ping', 'cancel', NODE_ID, 'ECDSA_SHA_256', ''),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie('value'), { maxKeys: 5 }),
  ),
}));

/** One message body, of one of several kinds, built on the valid message `original`. */
function messageBodies(forged: string): fc.Arbitrary<string> {
  const envelope = JSON.parse(original) as Record<string, unknown>;
  const request = JSON.parse(document) as Record<string, unknown>;
  return fc.oneof(
    // Any JSON at all.
    jsonValue.map((value) => JSON.stringify(value) ?? 'null'),
    // A few characters flipped anywhere in a valid message.
    fc
      .array(fc.tuple(fc.nat({ max: original.length - 1 }), fc.integer({ min: 0, max: 0x7e })), {
        minLength: 1,
        maxLength: 4,
      })
      .map((flips) => {
        const chars = [...original];
        for (const [at, code] of flips) chars[at] = String.fromCharCode(code);
        return chars.join('');
      }),
    // The request changed after signing.
    fc
      .tuple(fc.constantFrom(...Object.keys(request)), jsonValue)
      .map(([field, value]) =>
        JSON.stringify({ ...envelope, request: JSON.stringify({ ...request, [field]: value }) }),
      ),
    // A well-formed request, signed by someone else, asking to run something.
    fc.constant(forged),
    // Envelope fields replaced with other values.
    fc
      .tuple(fc.constantFrom('v', 'nodeId', 'request', 'signature'), jsonValue)
      .map(([name, value]) => JSON.stringify({ ...envelope, [name]: value })),
    // Truncated.
    fc.nat({ max: original.length - 1 }).map((length) => original.slice(0, length)),
  );
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
  const forgedRequest = JSON.stringify({ ...JSON.parse(document), command: { shell: 'touch /tmp/pwned' } });
  forged = JSON.stringify({
    ...(JSON.parse(original) as object),
    request: forgedRequest,
    signature: await impostor.signer.sign(forgedRequest),
  });
  // The original runs once; any mutation that stays authentic is then a replay.
  expect(checkRequest(original, ctx).kind).toBe('accept');
});

afterAll(() => {
  dedupe.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('request gate under fuzzing', () => {
  it(`accepts none of ${ROUNDS} random and mutated messages and never throws`, () => {
    const kinds = new Map<string, number>();

    // fast-check prints the seed and the smallest failing message; DROVER_FUZZ_SEED replays a seed.
    fc.assert(
      fc.property(messageBodies(forged), (body) => {
        const kind = checkRequest(body, ctx).kind;
        expect(['drop', 'reject'], body).toContain(kind);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }),
      {
        numRuns: ROUNDS,
        ...(process.env.DROVER_FUZZ_SEED ? { seed: Number(process.env.DROVER_FUZZ_SEED) } : {}),
      },
    );

    expect(kinds.get('drop')).toBeGreaterThan(ROUNDS / 2);
    expect(dedupe.size).toBe(1);
  });
});
