/** The verification key: from the config (PEM text, PEM or DER file) or from KMS, cached. */
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKmsClient } from '#shared/aws.ts';
import { verifySignature } from '#shared/signing.ts';
import {
  KMS_KEY_CACHE_FILE,
  PublicKeyError,
  publicKeyFromConfig,
  publicKeyFromKms,
  trustedKmsKeys,
} from '#agent/setup/public-key.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const DER = publicKey.export({ type: 'spki', format: 'der' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const DOCUMENT = '{"runId":"RUN"}';
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/abc';
const NEW_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/def';
const SIGNATURE = {
  keyId: 'k',
  alg: 'ECDSA_SHA_256' as const,
  value: sign('sha256', Buffer.from(DOCUMENT), { key: privateKey, dsaEncoding: 'der' }).toString('base64'),
};

let dir: string;
let kms:
  | { url: string; calls: string[]; answer: Record<string, unknown>; status: number; server: Server }
  | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-key-'));
});

afterEach(async () => {
  if (kms) {
    kms.server.closeAllConnections();
    await new Promise((r) => kms!.server.close(r));
    kms = undefined;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** A KMS JSON endpoint on 127.0.0.1 answering GetPublicKey. */
async function startFakeKms(): Promise<NonNullable<typeof kms>> {
  const state = {
    url: '',
    calls: [] as string[],
    status: 200,
    answer: {
      KeyId: 'arn:aws:kms:us-east-1:123456789012:key/abc',
      PublicKey: DER.toString('base64'),
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    } as Record<string, unknown>,
    server: createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        state.calls.push(`${String(req.headers['x-amz-target'])} ${body}`);
        res.writeHead(state.status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(state.answer));
      });
    }),
  };
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r));
  const address = state.server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  kms = state;
  return state;
}

const kmsClient = (url: string) => () =>
  createKmsClient({
    region: 'us-east-1',
    endpoints: { kms: url },
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });

describe('publicKeyFromConfig', () => {
  it('reads PEM text, a PEM file and a DER file alike', () => {
    const pemFile = join(dir, 'key.pem');
    const derFile = join(dir, 'key.der');
    writeFileSync(pemFile, PEM);
    writeFileSync(derFile, DER);

    for (const source of [PEM, pemFile, derFile]) {
      expect(verifySignature(publicKeyFromConfig(source), DOCUMENT, SIGNATURE)).toBe(true);
    }
  });

  it('refuses a missing file, garbage and a key of another kind, saying which', () => {
    const garbage = join(dir, 'garbage');
    writeFileSync(garbage, 'not a key');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });

    expect(() => publicKeyFromConfig(join(dir, 'missing.pem'))).toThrow(
      /cannot read .*missing\.pem: no such file/,
    );
    expect(() => publicKeyFromConfig(garbage)).toThrow(PublicKeyError);
    expect(() => publicKeyFromConfig(rsa.toString())).toThrow(
      'is a rsa key; requests are signed with ECDSA P-256',
    );
  });
});

describe('publicKeyFromKms', () => {
  it('fetches the key once with GetPublicKey and then reads it from the cache', async () => {
    const fake = await startFakeKms();

    const first = await publicKeyFromKms({ keyId: KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) });
    const second = await publicKeyFromKms({ keyId: KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) });

    expect(verifySignature(first, DOCUMENT, SIGNATURE)).toBe(true);
    expect(verifySignature(second, DOCUMENT, SIGNATURE)).toBe(true);
    expect(fake.calls).toEqual([`TrentService.GetPublicKey {"KeyId":"${KEY_ARN}"}`]);
    expect(existsSync(join(dir, KMS_KEY_CACHE_FILE))).toBe(true);
  });

  it('fetches again when the cache holds another key id', async () => {
    const fake = await startFakeKms();
    await publicKeyFromKms({ keyId: KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) });
    fake.answer.KeyId = NEW_KEY_ARN;

    await publicKeyFromKms({ keyId: NEW_KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) });

    expect(fake.calls).toHaveLength(2);
  });

  it('refuses a key that is not an ECC_NIST_P256 signing key', async () => {
    const fake = await startFakeKms();
    fake.answer.KeySpec = 'RSA_2048';

    await expect(
      publicKeyFromKms({ keyId: KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) }),
    ).rejects.toThrow(`KMS key ${KEY_ARN} is RSA_2048; drover signs with ECC_NIST_P256`);
  });

  it('gives up at once on access denied, naming the permission it needs', async () => {
    const fake = await startFakeKms();
    fake.status = 400;
    fake.answer = { __type: 'AccessDeniedException', message: 'not allowed' };

    await expect(
      publicKeyFromKms({ keyId: KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) }),
    ).rejects.toThrow(/AccessDeniedException: not allowed\); the agent needs kms:GetPublicKey on it/);
    expect(fake.calls).toHaveLength(1);
  });

  it('pins the key by ARN: an alias or a bare key id is refused before KMS is asked', async () => {
    const fake = await startFakeKms();

    for (const keyId of ['alias/drover-prod-signing', 'arn:aws:kms:us-east-1:123456789012:alias/x', 'abc']) {
      await expect(publicKeyFromKms({ keyId, stateDir: dir, kms: kmsClient(fake.url) })).rejects.toThrow(
        /must be the ARN of the stage's signing key .*an alias can be repointed/,
      );
    }
    expect(fake.calls).toEqual([]);
  });

  it('refuses a public key KMS gives for another key than the pinned one', async () => {
    const fake = await startFakeKms();
    fake.answer.KeyId = NEW_KEY_ARN;

    await expect(
      publicKeyFromKms({ keyId: KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) }),
    ).rejects.toThrow(`KMS answered for key ${NEW_KEY_ARN}, not the pinned ${KEY_ARN}`);
    expect(existsSync(join(dir, KMS_KEY_CACHE_FILE))).toBe(false);
  });

  it('trusts two keys while rotating, each fetched and cached on its own; never three', async () => {
    const fake = await startFakeKms();
    const echo = (keyId: string) => (fake.answer.KeyId = keyId);
    echo(KEY_ARN);
    await publicKeyFromKms({ keyId: KEY_ARN, stateDir: dir, kms: kmsClient(fake.url) });
    fake.calls.length = 0;

    echo(NEW_KEY_ARN);
    const keys = await trustedKmsKeys(`${KEY_ARN}, ${NEW_KEY_ARN}`, {
      stateDir: dir,
      kms: kmsClient(fake.url),
    });

    expect(keys.map((k) => k.keyId)).toEqual([KEY_ARN, NEW_KEY_ARN]);
    expect(fake.calls).toEqual([`TrentService.GetPublicKey {"KeyId":"${NEW_KEY_ARN}"}`]);
    await expect(
      trustedKmsKeys(`${KEY_ARN},${NEW_KEY_ARN},${KEY_ARN}`, { stateDir: dir, kms: kmsClient(fake.url) }),
    ).rejects.toThrow('must be one key ARN, or two separated by a comma while rotating the key');
  });
});
