/**
 * Dispatch signing with KMS: the SDK call is mocked (aws-sdk-client-mock), but the mock signs
 * with a real P-256 key the way KMS does (DER), and the messages are checked by the agent's own
 * request gate against the public key — the one verification path used in AWS and locally.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { KMSClient, SignCommand, type SignCommandInput } from '@aws-sdk/client-kms';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { KmsSigner, publicKeyFrom } from '#shared/signing.ts';
import { sendSigned } from '#functions/run/dispatch-batch.ts';
import { checkRequest } from '#agent/receive/request-gate.ts';
import { DedupeStore } from '#agent/receive/dedupe-store.ts';
import type { RunMetaItem } from '#shared/runs-table.ts';
import { nodeRunItem } from '../helpers/factories.ts';
import { fakeKmsSign, KMS_RAW_MESSAGE_MAX_BYTES } from '../helpers/fake-kms.ts';

const KEY_ARN = 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const kmsPublicKey = publicKey.export({ type: 'spki', format: 'der' });

const meta: RunMetaItem = {
  runId: '01JV5B2KQ7ZQ3X8N4M6P9R2T1W',
  sk: 'meta',
  status: 'running',
  action: 'exec',
  command: { shell: 'uptime' },
  filter: { with: [], fact: ['role=web'], class: [], identity: [] },
  options: { timeoutSec: 60, discoveryTimeoutSec: 10, batchSleepSec: 0, staleAfterHeartbeats: 3 },
  caller: 'alice@ops',
  createdAt: Date.now(),
  expected: 3,
  batchCount: 1,
  expiresAt: 0,
};

let dir: string;
const kms = mockClient(KMSClient);
const sqs = mockClient(SQSClient);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-kms-'));
  kms.reset();
  sqs.reset();
  kms.on(SignCommand).callsFake((input: SignCommandInput) => fakeKmsSign(privateKey, KEY_ARN, input));
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('dispatch signing with KMS', () => {
  it('signs once per batch with ECDSA_SHA_256 over the SHA-256 digest of the document', async () => {
    const targets = ['web-1', 'web-2', 'web-3'].map((id) =>
      nodeRunItem({ nodeId: id, identity: id, status: 'pending' }),
    );

    await sendSigned(meta, 0, targets, Date.now(), 'exec', {
      sqs: new SQSClient({ region: 'us-east-1' }),
      inboxUrl: (id) => `https://sqs.us-east-1.amazonaws.com/000000000000/drover-test-node-${id}`,
      signer: new KmsSigner(KEY_ARN, new KMSClient({ region: 'us-east-1' })),
    });

    const signCalls = kms.commandCalls(SignCommand);
    expect(signCalls).toHaveLength(1);
    expect(signCalls[0]!.args[0].input).toMatchObject({
      KeyId: KEY_ARN,
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    expect(signCalls[0]!.args[0].input.Message).toHaveLength(32);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(3);
  });

  it('signs a 500-host batch once, sends each host ~1.2 KB, and each agent accepts only its own', async () => {
    // Prepare: EC2-style ids; listed in the document they made it ~11 KB, in every message.
    const ids = Array.from({ length: 500 }, (_, i) => `i-${i.toString(16).padStart(17, '0')}`);
    const targets = ids.map((id) => nodeRunItem({ nodeId: id, identity: id, status: 'pending' }));

    // Act
    await sendSigned(meta, 0, targets, Date.now(), 'exec', {
      sqs: new SQSClient({ region: 'us-east-1' }),
      signer: new KmsSigner(KEY_ARN, new KMSClient({ region: 'us-east-1' })),
      inboxUrl: (id) => `https://sqs.us-east-1.amazonaws.com/000000000000/drover-test-node-${id}`,
    });

    // Assess: one signature; each message names its targets by the tree's root and its own proof.
    expect(kms.commandCalls(SignCommand)).toHaveLength(1);
    const bodies = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody!);
    expect(bodies).toHaveLength(500);
    for (const body of bodies) expect(Buffer.byteLength(body)).toBeLessThan(1_500);
    const gate = (id: string) => ({
      nodeId: id,
      publicKey: publicKeyFrom(kmsPublicKey),
      dedupe: DedupeStore.open(join(dir, `${id}.jsonl`)),
      host: () => ({ identity: id, facts: { role: 'web' }, classes: [] }),
      now: () => Date.now(),
    });
    for (const i of [0, 255, 256, 498, 499]) {
      const own = gate(ids[i]!);
      expect(checkRequest(bodies[i]!, own)).toMatchObject({ kind: 'accept' });
      own.dedupe.close();
      // The next host, given this host's message as its own, refuses it.
      const next = ids[(i + 1) % 500]!;
      const readdressed = JSON.stringify({ ...JSON.parse(bodies[i]!), nodeId: next });
      const other = gate(next);
      expect(checkRequest(readdressed, other)).toMatchObject({
        kind: 'drop',
        reason: 'this node is not among the signed targets',
      });
      other.dedupe.close();
    }
  });
});

describe('the KMS stand-in holds to the AWS limits', () => {
  const sign = (input: SignCommandInput) => () => fakeKmsSign(privateKey, KEY_ARN, input);

  it('refuses a RAW message over 4,096 bytes with ValidationException', () => {
    const Message = Buffer.alloc(KMS_RAW_MESSAGE_MAX_BYTES + 1, 'a');
    expect(sign({ KeyId: KEY_ARN, Message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' })).toThrow(
      expect.objectContaining({ name: 'ValidationException' }),
    );
  });

  it('refuses a DIGEST that is not exactly 32 bytes with ValidationException', () => {
    for (const length of [31, 33, 64]) {
      const Message = Buffer.alloc(length, 1);
      expect(
        sign({ KeyId: KEY_ARN, Message, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }),
      ).toThrow(expect.objectContaining({ name: 'ValidationException' }));
    }
  });

  it('signs a digest so that the signature verifies against the document', async () => {
    const document = 'x'.repeat(10_000);
    const Message = createHash('sha256').update(document).digest();
    const out = sign({ KeyId: KEY_ARN, Message, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' })();
    const { verifySignature } = await import('#shared/signing.ts');
    const value = Buffer.from(out.Signature!).toString('base64');
    expect(verifySignature(publicKey, document, { keyId: KEY_ARN, alg: 'ECDSA_SHA_256', value })).toBe(true);
    expect(verifySignature(publicKey, `${document}y`, { keyId: KEY_ARN, alg: 'ECDSA_SHA_256', value })).toBe(
      false,
    );
  });

  it('produces messages the agent accepts with the key KMS publishes, and only for their addressee', async () => {
    const targets = ['web-1', 'web-2'].map((id) =>
      nodeRunItem({ nodeId: id, identity: id, status: 'pending' }),
    );
    await sendSigned(meta, 0, targets, Date.now(), 'exec', {
      sqs: new SQSClient({ region: 'us-east-1' }),
      inboxUrl: (id) => `https://sqs.us-east-1.amazonaws.com/000000000000/drover-test-node-${id}`,
      signer: new KmsSigner(KEY_ARN, new KMSClient({ region: 'us-east-1' })),
    });
    const bodies = sqs.commandCalls(SendMessageCommand).map((c) => c.args[0].input.MessageBody!);
    const gate = (nodeId: string, body: string) =>
      checkRequest(body, {
        nodeId,
        publicKey: publicKeyFrom(kmsPublicKey),
        dedupe: DedupeStore.open(join(dir, `${nodeId}.jsonl`)),
        host: () => ({ identity: nodeId, facts: { role: 'web' }, classes: [] }),
        now: () => Date.now(),
      });

    expect(gate('web-1', bodies[0]!)).toMatchObject({
      kind: 'accept',
      request: { runId: meta.runId, caller: 'alice@ops' },
    });
    expect(gate('web-2', bodies[1]!)).toMatchObject({ kind: 'accept' });
    expect(gate('web-2', bodies[0]!)).toMatchObject({
      kind: 'drop',
      reason: expect.stringContaining('addressed to web-1'),
    });
  });

  it('is refused by an agent that trusts another key', async () => {
    await sendSigned(meta, 0, [nodeRunItem({ nodeId: 'web-1', status: 'pending' })], Date.now(), 'exec', {
      sqs: new SQSClient({ region: 'us-east-1' }),
      inboxUrl: (id) => `https://sqs.us-east-1.amazonaws.com/000000000000/drover-test-node-${id}`,
      signer: new KmsSigner(KEY_ARN, new KMSClient({ region: 'us-east-1' })),
    });
    const body = sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!;
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;

    const decision = checkRequest(body, {
      nodeId: 'web-1',
      publicKey: otherKey,
      dedupe: DedupeStore.open(join(dir, 'd.jsonl')),
      host: () => ({ identity: 'web-1', facts: { role: 'web' }, classes: [] }),
      now: () => Date.now(),
    });

    expect(decision).toMatchObject({ kind: 'drop', reason: expect.stringContaining('bad signature') });
  });
});
