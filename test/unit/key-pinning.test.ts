/**
 * Agents are pinned to one signing key, by ARN: the signed document names the key that signed it,
 * and an agent refuses a document naming another key by name (not as a mere bad signature).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { LocalKeySigner } from '#shared/signing.ts';
import { MESSAGE_VERSION, type InboxMessage } from '#shared/messages.ts';
import { sendSigned } from '#functions/run/dispatch-batch.ts';
import { checkRequest } from '#agent/receive/request-gate.ts';
import { DedupeStore } from '#agent/receive/dedupe-store.ts';
import { nodeRunItem, runMetaItem, signedRequest } from '../helpers/factories.ts';

const PINNED = 'arn:aws:kms:us-east-1:123456789012:key/1111';
const OTHER = 'arn:aws:kms:us-east-1:123456789012:key/2222';
const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
};
const pinned = pair();
const other = pair();

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'drover-pin-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function message(keyId: string, pem: string, runId?: string): Promise<string> {
  const document = JSON.stringify(signedRequest({ keyId, ...(runId ? { runId } : {}) }));
  const envelope: InboxMessage = {
    v: MESSAGE_VERSION,
    nodeId: 'web-1',
    request: document,
    signature: await new LocalKeySigner(keyId, pem).sign(document),
  };
  return JSON.stringify(envelope);
}

const gate = (body: string) =>
  checkRequest(body, {
    nodeId: 'web-1',
    publicKey: pinned.publicKey,
    keyId: PINNED,
    dedupe: DedupeStore.open(join(dir, 'dedupe.jsonl')),
    host: () => ({ identity: 'web-1', facts: {}, classes: [] }),
    now: () => Date.now(),
  });

describe('an agent pinned to a key', () => {
  it('accepts a document that names its key and verifies with it', async () => {
    expect(gate(await message(PINNED, pinned.pem))).toMatchObject({ kind: 'accept' });
  });

  it('refuses a document signed with another key, naming both keys', async () => {
    expect(gate(await message(OTHER, other.pem))).toEqual({
      kind: 'drop',
      reason: expect.stringContaining(`signed with key ${OTHER}, but this agent trusts only ${PINNED}`),
    });
  });

  it('refuses a document naming another key even if its signature verifies', async () => {
    expect(gate(await message(OTHER, pinned.pem))).toMatchObject({
      kind: 'drop',
      reason: expect.stringContaining(`signed with key ${OTHER}`),
    });
  });
});

describe('an agent rotating to a new key (kms_key_id: current,next)', () => {
  const NEXT = 'arn:aws:kms:us-east-1:123456789012:key/3333';
  const next = pair();
  const rotating = (body: string) =>
    checkRequest(body, {
      nodeId: 'web-1',
      publicKey: pinned.publicKey,
      keyId: PINNED,
      nextKeys: [{ keyId: NEXT, publicKey: next.publicKey }],
      dedupe: DedupeStore.open(join(dir, 'rotating.jsonl')),
      host: () => ({ identity: 'web-1', facts: {}, classes: [] }),
      now: () => Date.now(),
    });

  it('accepts documents signed with either key, each verified with the key it names', async () => {
    expect(rotating(await message(PINNED, pinned.pem))).toMatchObject({ kind: 'accept' });
    expect(rotating(await message(NEXT, next.pem, '01TESTRUN00000000000000001'))).toMatchObject({
      kind: 'accept',
    });
  });

  it('refuses a document naming the next key but signed with another', async () => {
    expect(rotating(await message(NEXT, other.pem))).toMatchObject({
      kind: 'drop',
      reason: expect.stringContaining('bad signature'),
    });
  });

  it('refuses a third key, naming the two it trusts', async () => {
    expect(rotating(await message(OTHER, other.pem))).toMatchObject({
      kind: 'drop',
      reason: expect.stringContaining(`but this agent trusts only ${PINNED} and ${NEXT}`),
    });
  });
});

describe('Dispatch', () => {
  const sqs = mockClient(SQSClient);
  afterEach(() => sqs.reset());

  it("writes the signer's key id into the signed document", async () => {
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    await sendSigned(
      runMetaItem({ status: 'running', filter: { with: [], fact: [], class: [], identity: [] } }),
      0,
      [nodeRunItem({ status: 'pending' })],
      Date.now(),
      'exec',
      {
        sqs: new SQSClient({ region: 'us-east-1' }),
        signer: new LocalKeySigner(PINNED, pinned.pem),
        inboxUrl: (id) => `http://127.0.0.1:1/000000000000/drover-test-node-${id}`,
      },
    );
    const body = JSON.parse(
      sqs.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageBody!,
    ) as InboxMessage;
    expect(JSON.parse(body.request)).toMatchObject({ keyId: PINNED });
    expect(gate(JSON.stringify(body))).toMatchObject({ kind: 'accept' });
  });
});
