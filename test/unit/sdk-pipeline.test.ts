/**
 * What shared/sdk-pipeline.ts takes out of, or reuses in, the SDK's per-call work: requests must
 * stay exactly as the SDK makes them (signatures that verify, call after call, and Lambda's trace
 * header where the SDK would send it).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand, SQSClient, paginateListQueues } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSqsClient } from '#shared/aws.ts';
import { reuseSigners } from '#shared/sdk-pipeline.ts';
import { getCallerIdentity } from '#local/sts.ts';

interface Seen {
  headers: IncomingMessage['headers'];
  verdict: number;
}

/** Answers GetQueueUrl, after checking each request's SigV4 signature as STS checks one. */
async function verifyingServer(secret: string): Promise<{ server: Server; endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const verdict = getCallerIdentity(req, body, secret).status;
      seen.push({ headers: req.headers, verdict });
      res.statusCode = verdict === 200 ? 200 : 400;
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end(
        verdict === 200
          ? JSON.stringify({ QueueUrl: 'http://127.0.0.1/000000000000/q' })
          : JSON.stringify({ __type: 'com.amazonaws.sqs#InvalidSecurity', message: 'bad signature' }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('reuseSigners', () => {
  it('builds one signer per auth scheme, not one per call', async () => {
    const build = vi.fn(async (scheme?: { signingRegion?: string }) => ({ region: scheme?.signingRegion }));
    const config = { signer: build };
    reuseSigners(config);

    const first = await config.signer({ signingRegion: 'us-east-1' });
    const again = await config.signer({ signingRegion: 'us-east-1' });
    const other = await config.signer({ signingRegion: 'eu-west-1' });

    expect(again).toBe(first);
    expect(other).toEqual({ region: 'eu-west-1' });
    expect(build).toHaveBeenCalledTimes(2);
  });

  it('builds again after a failed build instead of keeping the failure', async () => {
    const build = vi
      .fn<() => Promise<object>>()
      .mockRejectedValueOnce(new Error('region not resolved yet'))
      .mockResolvedValueOnce({ ok: true });
    const config = { signer: build };
    reuseSigners(config);

    await expect(config.signer()).rejects.toThrow('region not resolved yet');
    await expect(config.signer()).resolves.toEqual({ ok: true });
  });
});

describe('signing keys of a reused signer', () => {
  it('are derived once per day, region, service and secret, and again for a new secret', async () => {
    const derive = vi.fn(async (c: { secretAccessKey: string }, _r: string, day: string) =>
      new TextEncoder().encode(`${c.secretAccessKey}/${day}`),
    );
    const config = { signer: async () => ({ getSigningKey: derive }) };
    reuseSigners(config);
    const signer = (await config.signer()) as { getSigningKey: typeof derive };
    const first = { accessKeyId: 'A', secretAccessKey: 'one' };
    const rotated = { accessKeyId: 'A', secretAccessKey: 'two', sessionToken: 't' };

    const k1 = await signer.getSigningKey(first, 'us-east-1', '20261202');
    const k2 = await signer.getSigningKey({ ...first }, 'us-east-1', '20261202');
    const k3 = await signer.getSigningKey(rotated, 'us-east-1', '20261202');
    const k4 = await signer.getSigningKey(first, 'us-east-1', '20261203');

    expect(k2).toBe(k1);
    expect(new TextDecoder().decode(k3)).toBe('two/20261202');
    expect(new TextDecoder().decode(k4)).toBe('one/20261203');
    expect(derive).toHaveBeenCalledTimes(3);
  });
});

describe('clients built by shared/aws.ts', () => {
  const servers: Server[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const s of servers.splice(0)) s.close();
  });

  it('sign every call with a signature that verifies, call after call', async () => {
    const { server, endpoint, seen } = await verifyingServer('s3cret');
    servers.push(server);
    const sqs = createSqsClient({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDREUSE', secretAccessKey: 's3cret' },
      endpoints: { sqs: endpoint },
      maxAttempts: 1,
    });
    try {
      for (const name of ['a', 'b', 'c']) await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    } finally {
      sqs.destroy();
    }
    expect(seen.map((s) => s.verdict)).toEqual([200, 200, 200]);
    const signatures = seen.map((s) => /Signature=([0-9a-f]+)/.exec(String(s.headers.authorization))?.[1]);
    expect(new Set(signatures).size).toBe(3);
    expect(String(seen[0]!.headers.authorization)).toContain('Credential=AKIDREUSE/');
    expect(String(seen[0]!.headers.authorization)).toContain('/eu-west-1/sqs/aws4_request');
  });

  it('refuse to pass off a wrong secret: the reused signer signs with the credentials given', async () => {
    const { server, endpoint, seen } = await verifyingServer('the-right-one');
    servers.push(server);
    const sqs = createSqsClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDWRONG', secretAccessKey: 'not-the-right-one' },
      endpoints: { sqs: endpoint },
      maxAttempts: 1,
    });
    try {
      await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }))).rejects.toThrow();
    } finally {
      sqs.destroy();
    }
    expect(seen.map((s) => s.verdict)).toEqual([403]);
  });

  it('forward the X-Ray trace id inside Lambda, as the SDK does, and leave it out elsewhere', async () => {
    const { server, endpoint, seen } = await verifyingServer('s');
    servers.push(server);
    const call = async () => {
      const sqs = createSqsClient({
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKID', secretAccessKey: 's' },
        endpoints: { sqs: endpoint },
      });
      try {
        await sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }));
      } finally {
        sqs.destroy();
      }
    };
    vi.stubEnv('_X_AMZN_TRACE_ID', 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', '');
    await call();
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'drover-prod-ingest');
    await call();

    expect(seen.map((s) => s.headers['x-amzn-trace-id'])).toEqual([
      undefined,
      'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
    ]);
    expect(seen.map((s) => s.verdict)).toEqual([200, 200]);
  });
});

describe('the user agent', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('is written exactly as the SDK writes it, on the first call and on every one after', async () => {
    const { server, endpoint, seen } = await verifyingServer('s');
    servers.push(server);
    const options = {
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKID', secretAccessKey: 's' },
      endpoint,
      maxAttempts: 3,
    };
    const stock = new SQSClient(options);
    const ours = createSqsClient({ ...options, endpoints: { sqs: endpoint } });
    const calls = async (client: SQSClient) => {
      await client.send(new GetQueueUrlCommand({ QueueName: 'a' }));
      await client.send(new GetQueueUrlCommand({ QueueName: 'b' }));
      // A paginator's calls, which set features of their own in the context.
      for await (const page of paginateListQueues({ client }, {})) void page;
      await client.send(new GetQueueUrlCommand({ QueueName: 'c' }));
    };
    try {
      await calls(stock);
      await calls(ours);
    } finally {
      stock.destroy();
      ours.destroy();
    }
    const agents = seen.map((s) => [s.headers['user-agent'], s.headers['x-amz-user-agent']]);
    expect(agents).toHaveLength(8);
    expect(agents.slice(4)).toEqual(agents.slice(0, 4));
    expect(String(agents[0]![0])).toMatch(/^aws-sdk-js\/\S+ ua\/2\.1 .* m\/\S+/);
  });
});
