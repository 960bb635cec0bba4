/**
 * Pieces of `bench --simulate`: the latency profile file is complete and cites its sources, the
 * proxy names each AWS operation and delays it by the profile, and simulated facts have the sizes
 * the issue asks for (2–20 KB).
 */
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LatencyProxy, operationOf } from '../../bench/simulate/latency-proxy.ts';
import { realisticFacts } from '../../bench/simulate/fleet.ts';
import { DEFAULT_LATENCY_FILE, loadProfile } from '../../bench/simulate/simulate.ts';

describe('the latency profile', () => {
  const profile = loadProfile(DEFAULT_LATENCY_FILE);

  it.each(['sqs', 'dynamodb', 'stepFunctions', 'lambda', 'kms'] as const)(
    'cites a source for %s',
    (service) => {
      expect(String(profile[service].source).length).toBeGreaterThan(40);
      for (const [op, entry] of Object.entries(profile[service])) {
        if (op === 'source') continue;
        expect(entry, op).toMatchObject({ ms: expect.any(Number) });
      }
    },
  );

  it('refuses a file without SQS and DynamoDB latencies, naming it', () => {
    expect(() => loadProfile('package.json')).toThrow(/package\.json: a latency profile needs calls\.sqs/);
  });
});

describe('LatencyProxy', () => {
  it('names operations from X-Amz-Target, or the query protocol Action', () => {
    expect(operationOf({ headers: { 'x-amz-target': 'AmazonSQS.SendMessage' }, url: '/' })).toBe(
      'SendMessage',
    );
    expect(operationOf({ headers: { 'x-amz-target': 'DynamoDB_20120810.Scan' }, url: '/' })).toBe('Scan');
    expect(operationOf({ headers: {}, url: '/?Action=ReceiveMessage&x=1' })).toBe('ReceiveMessage');
  });

  it('delays each call by its operation, forwards it unchanged and counts it', async () => {
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(`echo:${body}`));
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const proxy = new LatencyProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, {
      Scan: { ms: 120 },
      default: { ms: 0 },
    });
    try {
      await proxy.start();
      const started = Date.now();
      const answer = await fetch(proxy.url, {
        method: 'POST',
        headers: { 'x-amz-target': 'DynamoDB_20120810.Scan' },
        body: 'page',
      });

      expect(await answer.text()).toBe('echo:page');
      expect(Date.now() - started).toBeGreaterThanOrEqual(115);
      expect(proxy.snapshot().Scan).toMatchObject({ calls: 1, requestBytes: 4, responseBytes: 9 });
      expect(proxy.delayOf('GetItem')).toBe(0);
    } finally {
      await proxy.stop();
      upstream.close();
    }
  });
});

describe('realisticFacts', () => {
  it.each([2 * 1024, 11 * 1024, 20 * 1024])(
    'reaches the size asked (%i bytes) within a package name',
    (bytes) => {
      const size = JSON.stringify(realisticFacts(7, bytes)).length;

      expect(size).toBeGreaterThanOrEqual(bytes);
      expect(size).toBeLessThan(bytes + 100);
    },
  );
});
