import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KMSClient } from '@aws-sdk/client-kms';
import {
  KmsSigner,
  LocalKeySigner,
  SignatureError,
  publicKeyFrom,
  signerFor,
  verifySignature,
} from '#shared/signing.ts';
import type { Signature } from '#shared/messages.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const DOCUMENT = JSON.stringify({ runId: 'RUN', targets: ['web-1'] });

function signatureOf(value: Buffer): Signature {
  return { keyId: 'alias/drover', alg: 'ECDSA_SHA_256', value: value.toString('base64') };
}

/** DER INTEGER of an unsigned big-endian number: leading zeros stripped, 0x00 added if the top bit is set. */
function derInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = bytes.subarray(start);
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/** What KMS Sign returns for ECDSA_SHA_256: SEQUENCE { INTEGER r, INTEGER s }, built by hand from r‖s. */
function kmsStyleDer(rawSignature: Buffer): Buffer {
  const r = derInteger(rawSignature.subarray(0, 32));
  const s = derInteger(rawSignature.subarray(32, 64));
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}

describe('verifySignature', () => {
  it('accepts a signature made by LocalKeySigner', async () => {
    const signature = await new LocalKeySigner('file:key.pem', privatePem).sign(DOCUMENT);

    expect(verifySignature(publicKey, DOCUMENT, signature)).toBe(true);
  });

  it('accepts a KMS-style DER signature of the document', () => {
    // Prepare: sign as raw r‖s, then encode the DER ourselves as KMS does.
    const raw = sign('sha256', Buffer.from(DOCUMENT, 'utf8'), { key: privateKey, dsaEncoding: 'ieee-p1363' });

    // Act
    const valid = verifySignature(publicKey, DOCUMENT, signatureOf(kmsStyleDer(raw)));

    // Assess
    expect(valid).toBe(true);
  });

  it('accepts a signature against the DER public key KMS GetPublicKey returns', async () => {
    const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
    const signature = await new LocalKeySigner('file:key.pem', privatePem).sign(DOCUMENT);

    expect(verifySignature(publicKeyFrom(spki), DOCUMENT, signature)).toBe(true);
  });

  it('refuses a signature of another document', async () => {
    const signature = await new LocalKeySigner('file:key.pem', privatePem).sign(DOCUMENT);

    expect(verifySignature(publicKey, DOCUMENT.replace('web-1', 'web-2'), signature)).toBe(false);
  });

  it('refuses a signature made with another key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const signature = await new LocalKeySigner(
      'file:key.pem',
      other.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ).sign(DOCUMENT);

    expect(verifySignature(publicKey, DOCUMENT, signature)).toBe(false);
  });

  it.each([
    ['random bytes', Buffer.from('definitely not a DER signature')],
    ['an empty value', Buffer.alloc(0)],
    ['a truncated DER sequence', Buffer.from([0x30, 0x44, 0x02, 0x20, 0x01])],
  ])('refuses %s without throwing', (_, value) => {
    expect(verifySignature(publicKey, DOCUMENT, signatureOf(value))).toBe(false);
  });

  it('refuses a raw r‖s signature that is not DER-encoded', () => {
    const raw = sign('sha256', Buffer.from(DOCUMENT, 'utf8'), { key: privateKey, dsaEncoding: 'ieee-p1363' });

    expect(verifySignature(publicKey, DOCUMENT, signatureOf(raw))).toBe(false);
  });

  it('refuses a signature claiming another algorithm', async () => {
    const signature = await new LocalKeySigner('file:key.pem', privatePem).sign(DOCUMENT);

    expect(
      verifySignature(publicKey, DOCUMENT, { ...signature, alg: 'RSASSA_PSS_SHA_256' as 'ECDSA_SHA_256' }),
    ).toBe(false);
  });
});

describe('LocalKeySigner', () => {
  it('labels its signatures with its key id and algorithm', async () => {
    const signature = await new LocalKeySigner('file:/keys/signing-key.pem', privatePem).sign(DOCUMENT);

    expect(signature).toMatchObject({ keyId: 'file:/keys/signing-key.pem', alg: 'ECDSA_SHA_256' });
  });
});

describe('signerFor', () => {
  const noKms = (): KMSClient => {
    throw new Error('a local key must not need KMS');
  };

  it('signs with a local PEM file for a file: key', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'drover-signing-'));
    const path = join(dir, 'signing-key.pem');
    writeFileSync(path, privatePem);

    try {
      // Act
      const signer = signerFor(`file:${path}`, noKms);
      const signature = await signer.sign(DOCUMENT);

      // Assess
      expect(signer).toBeInstanceOf(LocalKeySigner);
      expect(signature.keyId).toBe(`file:${path}`);
      expect(verifySignature(publicKey, DOCUMENT, signature)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signs with KMS for a key id', () => {
    const kms = {} as KMSClient;

    const signer = signerFor('alias/drover-prod', () => kms);

    expect(signer).toBeInstanceOf(KmsSigner);
    expect(signer.keyId).toBe('alias/drover-prod');
  });

  it('refuses an empty key setting', () => {
    expect(() => signerFor('', noKms)).toThrow(SignatureError);
  });
});
