/**
 * How `bench --simulate` holds 10,000 long polls in one process: in-memory connections that Node's
 * HTTP client and server use as sockets, a proxy that counts the calls in flight and reaches the
 * emulator without a socket, the fleet opening its polls before the run starts, and the fake
 * agents polling as agents do (20 s, each with its own abort signal).
 */
import { describe, expect, it } from 'vitest';
import { createServer, request, type Agent } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { memoryAgent, memoryConnectionPair } from '../../bench/simulate/memory-connection.ts';
import { LatencyProxy } from '../../bench/simulate/latency-proxy.ts';
import { POLL_WAIT_SEC, firstWaitSec, startFakeAgents } from '../../bench/simulate/fleet.ts';
import { pollsOpen } from '../../bench/simulate/simulate.ts';

function get(agent: Agent, path: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: 1, path, method: 'POST', agent, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.end('hello');
  });
}

describe('memoryConnectionPair', () => {
  it('carries bytes both ways and ends the peer when one side ends or is destroyed', async () => {
    const [a, b] = memoryConnectionPair();
    const got: string[] = [];
    b.on('data', (c: Buffer) => got.push(c.toString()));
    a.write('ping');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['ping']);

    const ended = new Promise((r) => b.on('end', r));
    a.end();
    await ended;

    const [c, d] = memoryConnectionPair();
    const closed = new Promise((r) => d.on('close', r));
    d.resume();
    c.destroy();
    await closed;
    expect(d.destroyed).toBe(true);
  });

  it('serves real HTTP between an http.Agent and an http.Server, no port', async () => {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(`${req.url} ${body}`));
    });
    let connections = 0;
    const agent = memoryAgent(() => {
      connections += 1;
      const [client, end] = memoryConnectionPair();
      server.emit('connection', end);
      return client;
    });
    try {
      expect(await get(agent, '/one')).toBe('200 /one hello');
      // Keep-alive: the second request reuses the first connection.
      expect(await get(agent, '/two')).toBe('200 /two hello');
      expect(connections).toBe(1);
      // Two at once take two connections, as two long polls would.
      await Promise.all([get(agent, '/a'), get(agent, '/b')]);
      expect(connections).toBe(2);
    } finally {
      agent.destroy();
      server.closeAllConnections();
    }
  });
});

describe('LatencyProxy in process', () => {
  it('takes connections without a socket, reaches upstream without one, and counts calls in flight', async () => {
    const release: (() => void)[] = [];
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => release.push(() => res.end('done')));
    });
    // The upstream's port is never connected to: every connection is handed over in process.
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as AddressInfo).port;
    let accepted = 0;
    const proxy = new LatencyProxy(`http://127.0.0.1:${port}`, { default: { ms: 0 } }, 1, {
      acceptUpstream: (c) => {
        accepted += 1;
        upstream.emit('connection', c);
      },
    });
    await proxy.start();
    const agent = memoryAgent(() => proxy.connect());
    try {
      const target = { 'x-amz-target': 'AmazonSQS.ReceiveMessage' };
      const answers = Promise.all([get(agent, '/', target), get(agent, '/', target)]);
      await pollsOpen(proxy, 2, 5_000, 5);
      while (release.length < 2) await new Promise((r) => setTimeout(r, 5));
      expect(proxy.inFlight.get('ReceiveMessage')).toBe(2);

      // A call in flight when counting restarts is counted in the new period.
      proxy.reset();
      expect(proxy.snapshot().ReceiveMessage?.calls).toBe(2);
      for (const done of release) done();
      expect(await answers).toEqual(['200 done', '200 done']);
      await new Promise((r) => setImmediate(r));
      expect(proxy.inFlight.get('ReceiveMessage')).toBe(0);
      expect(accepted).toBe(2);
    } finally {
      agent.destroy();
      await proxy.stop();
      upstream.closeAllConnections();
      upstream.close();
    }
  });
});

describe('pollsOpen', () => {
  it('gives up after its timeout, saying how many polls opened', async () => {
    const proxy = { inFlight: new Map([['ReceiveMessage', 3]]) };

    await expect(pollsOpen(proxy, 5, 30, 5)).rejects.toThrow('opened 3 of 5 long polls');
    await expect(pollsOpen(proxy, 3, 30, 5)).resolves.toBeUndefined();
  });
});

describe('the fake agents', () => {
  it('spread their first polls over 1–20 s, then poll 20 s, the most SQS allows', () => {
    const waits = Array.from({ length: 40 }, (_, i) => firstWaitSec(i));

    expect(Math.min(...waits)).toBe(1);
    expect(Math.max(...waits)).toBe(POLL_WAIT_SEC);
    expect(POLL_WAIT_SEC).toBe(20);
  });

  it('poll each inbox with its own abort signal, and stop() aborts every poll', async () => {
    const calls: { queue: string; wait: number; signal: AbortSignal }[] = [];
    const sqs = {
      send: (command: ReceiveMessageCommand, options: { abortSignal: AbortSignal }) => {
        calls.push({
          queue: command.input.QueueUrl!,
          wait: command.input.WaitTimeSeconds!,
          signal: options.abortSignal,
        });
        // An empty long poll that ends at once, or is aborted while it waits.
        return calls.length <= 3
          ? Promise.resolve({})
          : new Promise((_, reject) =>
              options.abortSignal.addEventListener('abort', () => reject(new Error('aborted'))),
            );
      },
    } as unknown as SQSClient;
    const fleet = { size: 3, factsBytes: 0, inboxes: ['q0', 'q1', 'q2'] };
    const agents = startFakeAgents(fleet, { sqs, repliesQueueUrl: 'replies' });
    while (calls.length < 6) await new Promise((r) => setImmediate(r));

    const first = calls.slice(0, 3);
    expect(first.map((c) => c.wait)).toEqual([1, 2, 3]);
    expect(calls.slice(3).map((c) => c.wait)).toEqual([20, 20, 20]);
    expect(new Set(first.map((c) => c.signal)).size).toBe(3);
    expect(calls.every((c) => c.signal === first.find((f) => f.queue === c.queue)!.signal)).toBe(true);

    await agents.stop();
    expect(calls.every((c) => c.signal.aborted)).toBe(true);
    expect(calls).toHaveLength(6);
  });
});
