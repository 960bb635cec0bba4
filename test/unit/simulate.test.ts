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
import { AWS_LIMITS, ingestSeconds, modelRun } from '../../bench/simulate/aws-model.ts';

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

describe('the AWS model', () => {
  const profile = loadProfile(DEFAULT_LATENCY_FILE);

  it('ramps ingest as the SQS event source does: 5 instances, then 5 more a second', () => {
    // 5 instances growing by 5 a second, 10 replies a second each: 50t + 25t² = 50 at t ≈ 0.73 s.
    expect(ingestSeconds(50, 10)).toBeCloseTo(0.73, 1);
    // With 200 instances from the start (provisioned pollers), the same 50 take a fortieth of that.
    expect(ingestSeconds(50, 10, 200)).toBeCloseTo(0.03, 1);
    expect(ingestSeconds(1_000_000, 1)).toBeLessThan(1_000_000 / AWS_LIMITS.esmStartConcurrency);
  });

  it('fans Dispatch out 40 groups at a time and names the limit that binds each phase', () => {
    const small = modelRun(1_000, 11 * 1024, profile);
    const large = modelRun(50_000, 11 * 1024, profile);

    expect(small.groups).toBe(2);
    expect(large.groups).toBe(100);
    // 50,000 hosts make 5 batches of 10,000: a batch's answer sets must fit one item.
    expect(large.batches).toBe(5);
    expect(large.ingest[0]!.bound).toBe('run partition writes (1,000 WCU/s)');
    expect(large.endToEndMs).toBeGreaterThan(small.endToEndMs);
  });

  it('meets the targets only with what a larger fleet needs, and says what binds there', () => {
    const built = modelRun(10_000, 11 * 1024, profile, 'built');
    const needed = modelRun(10_000, 11 * 1024, profile, 'needed');
    const needed50k = modelRun(50_000, 11 * 1024, profile, 'needed');

    expect(built.endToEndMs).toBeGreaterThan(5_000);
    expect(needed.endToEndMs).toBeLessThanOrEqual(5_000);
    expect(needed50k.endToEndMs).toBeLessThanOrEqual(10_000);
    expect(needed50k.batches).toBe(1);
    expect(needed50k.ingest[0]!.bound).toBe('table warm throughput (40,000 WCU/s)');
  });
});
