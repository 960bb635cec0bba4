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
import { POLL_FAILURES_TOLERATED, followExecution } from '../../bench/simulate/run-once.ts';
import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  LAYOUTS,
  countingWrites,
  groupsPerInvocation,
  ingestSeconds,
  modelRun,
  type LayoutName,
} from '../../bench/simulate/aws-model.ts';

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
  const facts = 11 * 1024;
  const model = (hosts: number, name: LayoutName) => modelRun(hosts, facts, profile, LAYOUTS[name]);

  it('ramps ingest as the SQS event source does: 5 instances, then 5 more a second', () => {
    // 5 instances growing by 5 a second, 10 replies a second each: 50t + 25t² = 50 at t ≈ 0.73 s.
    expect(ingestSeconds(50, 10)).toBeCloseTo(0.73, 1);
    // With 200 instances from the start (provisioned pollers), the same 50 take a fortieth of that.
    expect(ingestSeconds(50, 10, 200)).toBeCloseTo(0.03, 1);
    // Never past the account's 1,000 concurrent executions, whatever the event source allows.
    expect(ingestSeconds(1_000_000, 1, 5, 100, 1_000)).toBeGreaterThanOrEqual(1_000);
  });

  it('counts the groups an ingest invocation of 10 replies touches: at most 10, from the 40 dispatched at once', () => {
    expect(groupsPerInvocation(1)).toBe(1);
    expect(groupsPerInvocation(2)).toBeCloseTo(2, 1);
    expect(groupsPerInvocation(20)).toBeCloseTo(8.03, 1);
    expect(groupsPerInvocation(100)).toBe(groupsPerInvocation(40));
  });

  it('bills a set update at the item size, a counter at one unit', () => {
    const layout = LAYOUTS['group sets, group partitions'];
    // 10,000 hosts: 2,000 invocations; the batch item's sets average 10,000 ids of 19 bytes (186 KB).
    expect(countingWrites(10_000, LAYOUTS['batch sets, run partition'])).toMatchObject({
      updates: 2_000,
      wcu: 2_000 * 186,
      onBatchItem: true,
    });
    const sets = countingWrites(10_000, layout);
    const counters = countingWrites(10_000, { ...layout, answers: 'counter' });
    expect(sets.updates).toBeCloseTo(2_000 * groupsPerInvocation(20), 6);
    // A tally of 500 hosts averages 500 ids (10 KB); the batch item's completed groups 2 units a group.
    expect(sets.wcu).toBeCloseTo(sets.updates * 10 + 40, 6);
    expect(counters.wcu).toBeCloseTo(counters.updates + 40, 6);
  });

  it('fans Dispatch out 40 groups at a time; sets on the batch item cap a batch at 10,000 hosts', () => {
    const small = model(1_000, 'batch sets, run partition');
    const large = model(50_000, 'batch sets, run partition');

    expect(small.groups).toBe(2);
    expect(large.groups).toBe(100);
    expect(large.batches).toBe(5);
    expect(large.ingest[0]!.bound).toBe('run partition writes (1,000 WCU/s)');
    expect(model(50_000, 'group sets, group partitions').batches).toBe(1);
  });

  it('names what binds each layout at 10,000 hosts', () => {
    // Step 1 alone: smaller updates, but every write still goes to the run's one partition.
    expect(model(10_000, 'group sets, run partition').ingest[0]!.bound).toBe(
      'run partition writes (1,000 WCU/s)',
    );
    // Steps 1 and 2: spread over 20 partitions, a new on-demand table's 4,000 WCU/s binds.
    expect(model(10_000, 'group sets, group partitions').ingest[0]!.bound).toBe('table writes (4,000 WCU/s)');
    // Warm tables and provisioned pollers: each group's tally updates bind its partition.
    expect(model(10_000, 'group sets, group partitions, provisioned').ingest[0]!.bound).toBe(
      'group partition writes (1,000 WCU/s)',
    );
  });

  it('gets faster with each change, and meets the targets with slot sets and the large-fleet parameters', () => {
    for (const hosts of [10_000, 50_000]) {
      const times = (Object.keys(LAYOUTS) as LayoutName[]).map((name) => model(hosts, name).endToEndMs);
      for (let i = 1; i < times.length; i++)
        expect(times[i], `${hosts}: layout ${i}`).toBeLessThanOrEqual(times[i - 1]!);
    }
    expect(model(10_000, 'group sets, group partitions, provisioned').endToEndMs).toBeGreaterThan(5_000);
    // As built, with the stage's defaults, a new on-demand table's writes bind.
    expect(model(10_000, 'slot sets, group partitions').endToEndMs).toBeGreaterThan(5_000);
    expect(model(10_000, 'slot sets, group partitions, provisioned').endToEndMs).toBeLessThanOrEqual(5_000);
    expect(model(50_000, 'slot sets, group partitions, provisioned').endToEndMs).toBeLessThanOrEqual(10_000);
    expect(model(50_000, 'group counters, group partitions, provisioned').endToEndMs).toBeLessThanOrEqual(
      10_000,
    );
  });

  it('counts a host in its tally by slot: a few bytes where a node id takes 19', () => {
    const ids = countingWrites(10_000, LAYOUTS['group sets, group partitions']);
    const slots = countingWrites(10_000, LAYOUTS['slot sets, group partitions']);
    expect(slots.updates).toBe(ids.updates);
    expect(slots.wcu).toBeLessThan(ids.wcu / 4);
  });
});

describe('followExecution', () => {
  const sfnAnswering = (answers: (string | Error)[]) => {
    let calls = 0;
    return {
      calls: () => calls,
      sfn: {
        send: () => {
          const answer = answers[Math.min(calls++, answers.length - 1)]!;
          return answer instanceof Error ? Promise.reject(answer) : Promise.resolve({ status: answer });
        },
      } as unknown as SFNClient,
    };
  };

  it('lives through failed polls and returns the execution once it has ended', async () => {
    const timeout = Object.assign(new Error('no connection within 3000 ms'), { name: 'TimeoutError' });
    const { sfn, calls } = sfnAnswering([timeout, timeout, 'RUNNING', 'SUCCEEDED']);
    const logged: string[] = [];

    const execution = await followExecution({ sfn }, 'arn:x', Date.now() + 5_000, (t) => logged.push(t), 1);

    expect(execution.status).toBe('SUCCEEDED');
    expect(calls()).toBe(4);
    expect(logged).toEqual([
      'following the execution (DescribeExecution), failure 1: TimeoutError: no connection within 3000 ms',
      'following the execution (DescribeExecution), failure 2: TimeoutError: no connection within 3000 ms',
    ]);
  });

  it('gives up after 20 failures in a row, or at the deadline', async () => {
    const { sfn, calls } = sfnAnswering([new Error('refused')]);
    await expect(followExecution({ sfn }, 'arn:x', Date.now() + 5_000, () => {}, 1)).rejects.toThrow(
      'following the execution (DescribeExecution): Error: refused',
    );
    expect(calls()).toBe(POLL_FAILURES_TOLERATED);

    const running = sfnAnswering(['RUNNING']);
    await expect(
      followExecution({ sfn: running.sfn }, 'arn:x', Date.now() + 20, () => {}, 1),
    ).rejects.toThrow('did not finish in 30 minutes');
  });
});
