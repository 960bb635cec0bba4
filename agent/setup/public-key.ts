/**
 * The key requests are verified with: a PEM given in the config (inline or as a file, PEM or
 * DER), or the public half of the stage's KMS signing key, fetched once with `kms:GetPublicKey`
 * and cached in the state directory so restarts need no KMS call.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { publicKeyFrom } from '#shared/signing.ts';
import { awsErrorName } from '#shared/aws.ts';
import { backoffDelay, isTransient, sleep } from '../backoff.ts';

/** The configured key cannot be read, parsed or fetched. */
export class PublicKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PublicKeyError';
  }
}

export const KMS_KEY_CACHE_FILE = 'kms-public-key.json';
const FETCH_ATTEMPTS = 6;

/**
 * A key from `public_key`: PEM text, or the path of a PEM or DER (SubjectPublicKeyInfo) file.
 * Throws {@link PublicKeyError} naming the problem.
 */
export function publicKeyFromConfig(value: string): KeyObject {
  const material: string | Buffer = value.includes('-----BEGIN') ? value : readKeyFile(value);
  const pem =
    Buffer.isBuffer(material) && material.includes('-----BEGIN') ? material.toString('utf8') : material;
  try {
    return checkCurve(publicKeyFrom(pem));
  } catch (e: unknown) {
    if (e instanceof PublicKeyError) throw e;
    throw new PublicKeyError(`is not a public key: ${e instanceof Error ? e.message : e}`, { cause: e });
  }
}

export interface KmsKeyOptions {
  keyId: string;
  stateDir: string;
  /** The cache file's name in `stateDir`; KMS_KEY_CACHE_FILE unless several keys are trusted. */
  cacheFile?: string;
  kms: () => KMSClient;
  onWarning?: (message: string) => void;
}

/** A KMS key ARN: `arn:<partition>:kms:<region>:<account>:key/<key id>`. */
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/**
 * The public key of KMS key `keyId`, which must be a key ARN (pinned: an alias can be pointed at
 * another key by anyone allowed `kms:UpdateAlias`, and a bare key id is resolved in whatever
 * account the credentials are in): from the cache file in `stateDir` when it holds this ARN,
 * otherwise from `GetPublicKey` (retried while the error is transient), then cached. The key KMS
 * answers for must be that very ARN. A KMS key's public key never changes, so there is nothing to
 * refetch later: a new signing key is a new ARN to configure (docs/security.md, "Rotation").
 */
export async function publicKeyFromKms(options: KmsKeyOptions): Promise<KeyObject> {
  if (!KEY_ARN.test(options.keyId)) {
    throw new PublicKeyError(
      `must be the ARN of the stage's signing key (arn:aws:kms:<region>:<account>:key/<id>, the stack output SigningKeyArn), not "${options.keyId}": an alias can be repointed to another key, so the agent pins the key itself`,
    );
  }
  const cachePath = join(options.stateDir, options.cacheFile ?? KMS_KEY_CACHE_FILE);
  const cached = readCache(cachePath, options.keyId, options.onWarning);
  if (cached) return cached;

  const kms = options.kms();
  let failures = 0;
  for (;;) {
    try {
      const out = await kms.send(new GetPublicKeyCommand({ KeyId: options.keyId }));
      if (!out.PublicKey) throw new PublicKeyError(`KMS returned no public key for ${options.keyId}`);
      if (out.KeyId !== undefined && out.KeyId !== options.keyId) {
        throw new PublicKeyError(`KMS answered for key ${out.KeyId}, not the pinned ${options.keyId}`);
      }
      if (out.KeySpec !== undefined && out.KeySpec !== 'ECC_NIST_P256') {
        throw new PublicKeyError(
          `KMS key ${options.keyId} is ${out.KeySpec}; drover signs with ECC_NIST_P256`,
        );
      }
      if (out.KeyUsage !== undefined && out.KeyUsage !== 'SIGN_VERIFY') {
        throw new PublicKeyError(`KMS key ${options.keyId} is for ${out.KeyUsage}, not SIGN_VERIFY`);
      }
      const der = Buffer.from(out.PublicKey);
      const key = checkCurve(publicKeyFrom(der));
      writeCache(cachePath, options.keyId, der, options.onWarning);
      return key;
    } catch (e: unknown) {
      if (e instanceof PublicKeyError) throw e;
      failures++;
      if (!isTransient(e) || failures >= FETCH_ATTEMPTS) {
        const why = `${awsErrorName(e) ?? 'Error'}: ${e instanceof Error ? e.message : e}`;
        throw new PublicKeyError(
          `cannot get the public key of KMS key ${options.keyId} (${why}); the agent needs kms:GetPublicKey on it`,
          { cause: e },
        );
      }
      options.onWarning?.(`GetPublicKey failed (${awsErrorName(e)}); retrying`);
      await sleep(backoffDelay(failures, 5_000));
    }
  }
}

/** A verification key and, when pinned by `kms_key_id`, the KMS key ARN it belongs to. */
export interface TrustedKey {
  keyId?: string;
  publicKey: KeyObject;
}

/**
 * The keys of `kms_key_id`: one ARN, or two separated by a comma while rotating (the current key,
 * then the next one; docs/security.md). Each is fetched and cached on its own.
 */
export async function trustedKmsKeys(
  kmsKeyId: string,
  options: Omit<KmsKeyOptions, 'keyId' | 'cacheFile'>,
): Promise<TrustedKey[]> {
  const arns = kmsKeyId
    .split(',')
    .map((arn) => arn.trim())
    .filter((arn) => arn !== '');
  if (arns.length === 0 || arns.length > 2) {
    throw new PublicKeyError('must be one key ARN, or two separated by a comma while rotating the key');
  }
  const keys: TrustedKey[] = [];
  for (const [i, keyId] of arns.entries()) {
    const cacheFile = i === 0 ? KMS_KEY_CACHE_FILE : `kms-public-key-${i}.json`;
    keys.push({ keyId, publicKey: await publicKeyFromKms({ ...options, keyId, cacheFile }) });
  }
  return keys;
}

function readKeyFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e: unknown) {
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    throw new PublicKeyError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : e}`,
      { cause: e },
    );
  }
}

function checkCurve(key: KeyObject): KeyObject {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    throw new PublicKeyError(
      `is a ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''} key; requests are signed with ECDSA P-256`,
    );
  }
  return key;
}

function readCache(path: string, keyId: string, warn?: (m: string) => void): KeyObject | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const cache = JSON.parse(text) as { keyId?: unknown; publicKey?: unknown };
    if (cache.keyId !== keyId || typeof cache.publicKey !== 'string') return undefined;
    return checkCurve(publicKeyFrom(Buffer.from(cache.publicKey, 'base64')));
  } catch (e: unknown) {
    warn?.(`${path}: unusable cached key (${e instanceof Error ? e.message : e}); fetching it again`);
    return undefined;
  }
}

function writeCache(path: string, keyId: string, der: Buffer, warn?: (m: string) => void): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(
      temp,
      JSON.stringify({ keyId, publicKey: der.toString('base64'), fetchedAt: new Date().toISOString() }) +
        '\n',
    );
    renameSync(temp, path);
  } catch (e: unknown) {
    // Only a cache: the next start fetches the key again.
    warn?.(`cannot cache the KMS public key in ${path}: ${e instanceof Error ? e.message : e}`);
  }
}
