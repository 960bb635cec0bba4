/**
 * A KMS `Sign` stand-in that is never more lenient than AWS: it enforces the documented limits of
 * the Message parameter (RAW: 0–4,096 bytes; DIGEST: exactly the digest length of the signing
 * algorithm, 32 bytes for ECDSA_SHA_256) with AWS's error name (`ValidationException`), and signs
 * the way KMS does (ECDSA P-256, DER): RAW hashes the message, DIGEST signs the given digest
 * without hashing it again. Node's crypto cannot sign a pre-hashed value, so the DIGEST path is
 * textbook ECDSA over P-256 with BigInt (test-only; speed and side channels do not matter here).
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import { KMSServiceException, type SignCommandInput, type SignCommandOutput } from '@aws-sdk/client-kms';

/** KMS's documented maximum for a RAW message (API_Sign: "Messages can be 0-4096 bytes"). */
export const KMS_RAW_MESSAGE_MAX_BYTES = 4096;
const SHA256_BYTES = 32;

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const G: Point = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};

interface Point {
  x: bigint;
  y: bigint;
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  // Fermat: m is prime for both the field and the group order of P-256.
  let result = 1n;
  let base = mod(a, m);
  let e = m - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % m;
    base = (base * base) % m;
    e >>= 1n;
  }
  return result;
}

function add(a: Point | null, b: Point | null): Point | null {
  if (!a) return b;
  if (!b) return a;
  if (a.x === b.x && mod(a.y + b.y, P) === 0n) return null;
  const slope =
    a.x === b.x && a.y === b.y
      ? mod((3n * a.x * a.x - 3n) * inverse(2n * a.y, P), P)
      : mod((b.y - a.y) * inverse(b.x - a.x, P), P);
  const x = mod(slope * slope - a.x - b.x, P);
  return { x, y: mod(slope * (a.x - x) - a.y, P) };
}

function multiply(k: bigint, point: Point): Point | null {
  let result: Point | null = null;
  let addend: Point | null = point;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

function toBigInt(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
}

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let body = Buffer.from(hex, 'hex');
  if (body[0]! & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

/** ECDSA P-256 signature (DER) of a 32-byte digest, as KMS returns for MessageType DIGEST. */
export function signDigest(privateKey: KeyObject, digest: Uint8Array): Uint8Array {
  const jwk = privateKey.export({ format: 'jwk' });
  const d = toBigInt(Buffer.from(jwk.d!, 'base64url'));
  const z = toBigInt(digest);
  for (;;) {
    const k = mod(toBigInt(randomBytes(40)), N - 1n) + 1n;
    const r = mod(multiply(k, G)!.x, N);
    const s = mod(inverse(k, N) * (z + r * d), N);
    if (r === 0n || s === 0n) continue;
    const body = Buffer.concat([derInteger(r), derInteger(s)]);
    return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
  }
}

function validation(message: string): KMSServiceException {
  return new KMSServiceException({
    name: 'ValidationException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message,
  });
}

/** What KMS `Sign` answers for an ECC_NIST_P256 key, limits included. */
export function fakeKmsSign(
  privateKey: KeyObject,
  keyId: string,
  input: SignCommandInput,
): Partial<SignCommandOutput> {
  const message = input.Message ?? new Uint8Array();
  if (input.SigningAlgorithm !== 'ECDSA_SHA_256') {
    throw validation(`Signing algorithm ${String(input.SigningAlgorithm)} is not valid for this key`);
  }
  const type = input.MessageType ?? 'RAW';
  if (type === 'RAW' && message.length > KMS_RAW_MESSAGE_MAX_BYTES) {
    throw validation(
      "1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096",
    );
  }
  if (type === 'DIGEST' && message.length !== SHA256_BYTES) {
    throw validation('Digest is invalid length for algorithm ECDSA_SHA_256.');
  }
  const digest = type === 'RAW' ? createHash('sha256').update(message).digest() : message;
  return { KeyId: keyId, SigningAlgorithm: 'ECDSA_SHA_256', Signature: signDigest(privateKey, digest) };
}
