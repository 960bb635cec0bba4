/**
 * The simulated fleet's thread and what it stands on: connections carried over a MessagePort
 * (real HTTP between an agent in one thread and a server in the other), the SDK handler that
 * delays and counts each call as the latency proxy does, and the two sources' counts added up.
 */
import { describe, expect, it } from 'vitest';
import { createServer, request } from 'node:http';
import { MessageChannel } from 'node:worker_threads';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpRequest } from '@smithy/types';
import { PortLink } from '../../bench/simulate/port-connection.ts';
import { memoryAgent } from '../../bench/simulate/memory-connection.ts';
import { DelayingHandler, operationOfRequest } from '../../bench/simulate/delaying-handler.ts';
import { mergeCounts } from '../../bench/simulate/fleet-thread.ts';

const record = (calls: number, requestBytes = 0) => ({ calls, requestBytes, responseBytes: 0, capacity: 0 });

describe('PortLink', () => {
  it('carries HTTP requests from an agent on one side to a server on the other, and closes both ends', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(`seen ${req.url}`));
    });
    const channel = new MessageChannel();
    const serving = new PortLink(channel.port1, (c) => server.emit('connection', c));
    const client = new PortLink(channel.port2);
    const agent = memoryAgent(() => client.connect());
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: 1, path, agent, method: 'POST' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end('x'.repeat(20_000));
      });
    try {
      expect(await Promise.all([get('/a'), get('/b')])).toEqual(['seen /a', 'seen /b']);
      expect(client.size).toBe(2);
      expect(serving.size).toBe(2);

      agent.destroy();
      for (let i = 0; i < 50 && serving.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(serving.size).toBe(0);
    } finally {
      client.close();
      serving.close();
      server.closeAllConnections();
    }
  });
});

describe('DelayingHandler', () => {
  const sqsCall = (op: string): HttpRequest => ({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 1,
    path: '/',
    query: {},
    headers: { 'X-Amz-Target': `AmazonSQS.${op}`, 'content-type': 'application/x-amz-json-1.0' },
    body: '{"QueueUrl":"q"}',
  });

  it('names the operation from X-Amz-Target', () => {
    expect(operationOfRequest(sqsCall('ReceiveMessage'))).toBe('ReceiveMessage');
    expect(operationOfRequest({ headers: {} })).toBe('unknown');
  });

  it('waits the profile delay before the call goes out, and counts it while in flight', async () => {
    let arrived = 0;
    const server = createServer((req, res) => {
      arrived = Date.now();
      req.resume();
      req.on('end', () => res.end('{}'));
    });
    const channel = new MessageChannel();
    const serving = new PortLink(channel.port1, (c) => server.emit('connection', c));
    const client = new PortLink(channel.port2);
    const handler = new DelayingHandler(
      new NodeHttpHandler({ httpAgent: memoryAgent(() => client.connect()) }),
      (op) => (op === 'ReceiveMessage' ? 80 : 0),
    );
    try {
      const sent = Date.now();
      const pending = handler.handle(sqsCall('ReceiveMessage'));
      expect(handler.inFlight.get('ReceiveMessage')).toBe(1);
      handler.reset();
      expect(handler.snapshot().ReceiveMessage?.calls).toBe(1);
      const { response } = await pending;

      expect(response.statusCode).toBe(200);
      expect(arrived - sent).toBeGreaterThanOrEqual(75);
      expect(handler.inFlight.get('ReceiveMessage')).toBe(0);
      await handler.handle(sqsCall('DeleteMessage'));
      await handler.handle({ ...sqsCall('SendMessage'), body: new TextEncoder().encode('{"a":1}') });
      expect(handler.snapshot()).toMatchObject({
        ReceiveMessage: { calls: 1 },
        DeleteMessage: { calls: 1, requestBytes: 16, responseBytes: 2 },
        SendMessage: { calls: 1, requestBytes: 7 },
      });
    } finally {
      handler.destroy();
      client.close();
      serving.close();
      server.closeAllConnections();
    }
  });

  it('gives up waiting when the call is aborted', async () => {
    const handler = new DelayingHandler(new NodeHttpHandler(), () => 10_000);
    const abort = new AbortController();
    const pending = handler.handle(sqsCall('ReceiveMessage'), { abortSignal: abort.signal });
    abort.abort();

    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(handler.inFlight.get('ReceiveMessage')).toBe(0);
    handler.destroy();
  });
});

describe('mergeCounts', () => {
  it('adds the proxy and the fleet thread up, per operation', () => {
    expect(
      mergeCounts({ SendMessage: record(3, 30), ReceiveMessage: record(1) }, { SendMessage: record(2, 20) }),
    ).toEqual({ SendMessage: record(5, 50), ReceiveMessage: record(1) });
  });
});
