/**
 * The local stack's handlers reach its emulators without a socket (shared/in-process-endpoints.ts):
 * the same HTTP requests to the same server handler; everything else still goes over TCP.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Socket, type AddressInfo } from 'node:net';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSqsClient } from '#shared/aws.ts';
import { serveInProcess } from '#shared/in-process-endpoints.ts';

interface Served {
  server: Server;
  endpoint: string;
  /** Per request: did it come over a kernel socket, and its headers. */
  requests: { tcp: boolean; headers: IncomingMessage['headers'] }[];
}

async function queueServer(): Promise<Served> {
  const requests: Served['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ tcp: req.socket instanceof Socket, headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.end(JSON.stringify({ QueueUrl: 'http://127.0.0.1/000000000000/q' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };

async function getQueueUrl(endpoint?: string): Promise<string | undefined> {
  const sqs = createSqsClient({
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    ...(endpoint ? { endpoints: { sqs: endpoint } } : {}),
  });
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }))).QueueUrl;
  } finally {
    sqs.destroy();
  }
}

describe('in-process endpoints', () => {
  const undo: (() => void)[] = [];
  const servers: Server[] = [];
  afterEach(() => {
    vi.unstubAllEnvs();
    for (const u of undo.splice(0)) u();
    for (const s of servers.splice(0)) s.close();
  });

  it('serves a client of a registered endpoint through the same server, without a socket', async () => {
    const served = await queueServer();
    servers.push(served.server);
    undo.push(serveInProcess(served.endpoint, (c) => served.server.emit('connection', c)));

    await expect(getQueueUrl(served.endpoint)).resolves.toBe('http://127.0.0.1/000000000000/q');

    expect(served.requests.map((r) => r.tcp)).toEqual([false]);
    expect(String(served.requests[0]!.headers.authorization)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCAL\//,
    );
    expect(served.requests[0]!.headers.host).toBe(served.endpoint.slice('http://'.length));
  });

  it('finds the endpoint the handlers configure by environment (AWS_ENDPOINT_URL_SQS)', async () => {
    const served = await queueServer();
    servers.push(served.server);
    undo.push(serveInProcess(`${served.endpoint}/`, (c) => served.server.emit('connection', c)));
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', served.endpoint);

    await getQueueUrl();

    expect(served.requests.map((r) => r.tcp)).toEqual([false]);
  });

  it('uses TCP for an endpoint not served in this process (a proxy in front of the emulator)', async () => {
    const emulator = await queueServer();
    const proxy = await queueServer();
    servers.push(emulator.server, proxy.server);
    undo.push(serveInProcess(emulator.endpoint, (c) => emulator.server.emit('connection', c)));

    await getQueueUrl(proxy.endpoint);

    expect(proxy.requests.map((r) => r.tcp)).toEqual([true]);
    expect(emulator.requests).toEqual([]);
  });

  it('refuses new connections once the server is no longer served, as its closed port would', async () => {
    const served = await queueServer();
    servers.push(served.server);
    const stop = serveInProcess(served.endpoint, (c) => served.server.emit('connection', c));
    const sqs = createSqsClient({
      region: 'us-east-1',
      credentials,
      endpoints: { sqs: served.endpoint },
      maxAttempts: 1,
    });
    try {
      stop();
      await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }))).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    } finally {
      sqs.destroy();
    }
    expect(served.requests).toEqual([]);
  });

  it('refuses an endpoint that is not plain http', () => {
    expect(() => serveInProcess('not a url', () => {})).toThrow(/not an http:\/\/ endpoint/);
  });
});
