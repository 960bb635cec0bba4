/**
 * Request signatures: ECDSA P-256 with SHA-256, DER-encoded, the format AWS KMS `Sign` returns for
 * ECC_NIST_P256 keys. Dispatch signs with KMS in AWS or with a local key file on one machine;
 * agents verify both the same way, against a public key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Signature } from './messages.ts';

export interface RequestSigner {
  readonly keyId: string;
  sign(document: string): Promise<Signature>;
}

export class SignatureError extends Error {
  override name = 'SignatureError';
}

/** Signs with a PEM private key held in memory (the local stack's key pair). */
export class LocalKeySigner implements RequestSigner {
  readonly #key: KeyObject;
  constructor(
    readonly keyId: string,
    privateKeyPem: string,
  ) {
    this.#key = createPrivateKey(privateKeyPem);
  }

  async sign(document: string): Promise<Signature> {
    const value = sign('sha256', Buffer.from(document, 'utf8'), { key: this.#key, dsaEncoding: 'der' });
    return { keyId: this.keyId, alg: 'ECDSA_SHA_256', value: value.toString('base64') };
  }
}

/**
 * Signs with an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY). KMS takes at most 4,096 bytes
 * as a RAW message, and a document with a long command outgrows that, so we send the SHA-256
 * digest (`MessageType: 'DIGEST'`): KMS skips its own hashing step, and the signature is the same
 * ECDSA_SHA_256 signature of the document that agents verify.
 */
export class KmsSigner implements RequestSigner {
  constructor(
    readonly keyId: string,
    private readonly kms: KMSClient,
  ) {}

  async sign(document: string): Promise<Signature> {
    const result = await this.kms.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: createHash('sha256').update(document, 'utf8').digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (!result.Signature) throw new SignatureError(`KMS returned no signature for key ${this.keyId}`);
    return {
      keyId: this.keyId,
      alg: 'ECDSA_SHA_256',
      value: Buffer.from(result.Signature).toString('base64'),
    };
  }
}

/**
 * The signer a stage is configured with: `file:<path>` is a local PEM private key, anything else
 * a KMS key id or ARN.
 */
export function signerFor(signingKey: string, kms: () => KMSClient): RequestSigner {
  if (signingKey === '') throw new SignatureError('no signing key configured (DROVER_SIGNING_KEY)');
  if (signingKey.startsWith('file:')) {
    const path = signingKey.slice('file:'.length);
    return new LocalKeySigner(`file:${path}`, readFileSync(path, 'utf8'));
  }
  return new KmsSigner(signingKey, kms());
}

/** Accepts a PEM public key or the DER SubjectPublicKeyInfo that KMS GetPublicKey returns. */
export function publicKeyFrom(material: string | Uint8Array): KeyObject {
  if (typeof material === 'string') return createPublicKey(material);
  return createPublicKey({ key: Buffer.from(material), format: 'der', type: 'spki' });
}

/** True when `signature` is a valid ECDSA P-256/SHA-256 DER signature of `document`. */
export function verifySignature(publicKey: KeyObject, document: string, signature: Signature): boolean {
  if (signature.alg !== 'ECDSA_SHA_256') return false;
  try {
    return verify(
      'sha256',
      Buffer.from(document, 'utf8'),
      { key: publicKey, dsaEncoding: 'der' },
      Buffer.from(signature.value, 'base64'),
    );
  } catch {
    // A malformed DER value is an invalid signature, not a crash.
    return false;
  }
}

/** Creates a P-256 key pair as PEM files unless they exist; returns their paths. */
export function ensureLocalKeyPair(privatePath: string, publicPath: string): void {
  if (existsSync(privatePath) && existsSync(publicPath)) return;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  mkdirSync(dirname(privatePath), { recursive: true });
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }));
}
