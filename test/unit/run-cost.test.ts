/**
 * The estimated cost of one run (cli/cost/run-cost.ts) is the monthly model of `drover cost`
 * applied to one run: these tests check it against the model's own per-run counts and prices, the
 * way it is printed and carried in JSON, and the `drover runs --total-by` sums.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CliIO } from '#cli/context.ts';
import { defaultAssumptions, defaultPrices, estimateMonthlyCost } from '#cli/cost/model.ts';
import {
  estimateRunCost,
  formatUsd,
  missingRunItems,
  runCostText,
  groupThousands,
  type RunCounts,
} from '#cli/cost/run-cost.ts';
import { NO_SCHEDULE, groupKey, runRecordCost, runTotals } from '#cli/cost/run-totals.ts';
import { RunReport, costOfRun } from '#cli/run-report.ts';
import { HostProgress } from '#cli/output/progress.ts';
import { jsonlLineSchema, runDocumentSchema, runsDocumentSchema } from '#cli/output/schemas.ts';
import { totalsTable } from '#cli/actions/runs.ts';
import { nodeRunItem, runMetaItem, runSummary } from '../helpers/factories.ts';

const cost = (counts: Partial<RunCounts> = {}) =>
  estimateRunCost({ hosts: 100, batches: 1, watchSeconds: 0, ...counts });

describe('estimateRunCost', () => {
  it('names only lines the monthly model has (a renamed line would drop out of the price)', () => {
    expect(missingRunItems()).toEqual([]);
  });

  it('is the monthly model of one run, less the fleet standing costs', () => {
    // The same run made every day of a 30-day month, on a fleet with no heartbeats and no idle time.
    const monthly = estimateMonthlyCost(
      {
        ...defaultAssumptions(),
        hosts: 100,
        hostsPerRun: 100,
        runsPerDay: 1,
        watchSeconds: 0,
        heartbeatSeconds: Number.POSITIVE_INFINITY,
      },
      defaultPrices(),
    );
    const standing = [
      'agent long polls',
      'replies-queue event source polls',
      'storage',
      'GetPublicKey',
      'key',
      'reaper',
      'alarms',
    ];
    const runLines = monthly.lines.filter((l) => !standing.some((s) => l.item.includes(s)));
    const perRun = runLines.reduce((sum, l) => sum + l.monthlyUsd, 0) / 30;

    // Equal but for rounding up to whole read units once per month rather than once per run.
    expect(cost().usd).toBeCloseTo(perRun, 6);
  });

  it('counts per host: 9 SQS requests at $0.40 per million for a 1 KB result', () => {
    // request sent/received/deleted, ack and one result chunk sent, both received and deleted.
    expect(cost({ hosts: 1000 }).byService.SQS).toBeCloseTo((1000 * 9 * 0.4) / 1e6, 12);
  });

  it('grows with the hosts, the batches, the output and the time drover run follows it', () => {
    const base = cost();

    expect(cost({ hosts: 1000 }).usd).toBeGreaterThan(base.usd * 5);
    expect(cost({ batches: 10 }).usd).toBeGreaterThan(base.usd);
    // 100 hosts × 200 KB: results go over one 64 KB SQS chunk and several 1 KB write units.
    expect(cost({ outputBytes: 100 * 200 * 1024 }).usd).toBeGreaterThan(base.usd);
    expect(cost({ watchSeconds: 10 }).usd).toBeGreaterThan(base.usd);
    // Plan scans the whole facts table, not only the hosts a filter kept.
    expect(cost({ fleetHosts: 10_000 }).byService.DynamoDB).toBeGreaterThan(base.byService.DynamoDB!);
  });

  it('prices a run with no hosts at its state transitions and event, without NaN', () => {
    const none = cost({ hosts: 0, batches: 0 });

    expect(Number.isFinite(none.usd)).toBe(true);
    expect(none.usd).toBeGreaterThan(0);
    expect(none.byService.SQS ?? 0).toBe(0);
  });

  it('follows the prices it is given (the same flags as drover cost)', () => {
    const doubled = { ...defaultPrices(), sqsPerMillion: 0.8 };

    expect(estimateRunCost({ hosts: 100, batches: 1 }, doubled).byService.SQS).toBeCloseTo(
      cost().byService.SQS! * 2,
      12,
    );
  });
});

describe('groupThousands', () => {
  it('writes a count as toLocaleString does in English', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double()), (n) => {
        expect(groupThousands(n)).toBe(n.toLocaleString('en-US'));
      }),
      { numRuns: 2_000 },
    );
    expect(groupThousands(50_000)).toBe('50,000');
  });
});

describe('formatUsd and runCostText', () => {
  it('keeps two significant digits below a dollar and cents above', () => {
    expect(formatUsd(0.0012345)).toBe('$0.0012');
    expect(formatUsd(0.0847)).toBe('$0.085');
    expect(formatUsd(0.000024)).toBe('$0.000024');
    expect(formatUsd(12.345)).toBe('$12.35');
    expect(formatUsd(0)).toBe('$0');
  });

  it('says what it is and for how many hosts', () => {
    expect(runCostText({ usd: 0.0012, hosts: 1000, byService: {}, pricesAsOf: 'x' })).toBe(
      '≈ $0.0012 for 1,000 hosts (estimated AWS cost; drover cost explains the model)',
    );
    expect(runCostText({ usd: 0.0001, hosts: 1, byService: {}, pricesAsOf: 'x' })).toContain('for 1 host ');
  });
});

function fakeIO() {
  const captured = { stdout: '', stderr: '' };
  const io: CliIO = {
    out: (text) => void (captured.stdout += text),
    err: (text) => void (captured.stderr += text),
    color: false,
    stderr: { isTTY: false, write: () => true },
    onInterrupt: () => () => undefined,
    setExitCode: () => undefined,
  };
  return { io, captured };
}

const meta = runMetaItem({
  expected: 2,
  summary: runSummary({ expected: 2, discovered: 2, succeeded: 2 }),
});
const hosts = [
  nodeRunItem({ nodeId: 'a', identity: 'a', stdout: { text: 'x', bytes: 300_000, truncated: true } }),
  nodeRunItem({ nodeId: 'b', identity: 'b', stdout: { text: 'y', bytes: 1, truncated: false } }),
];

describe('the cost in drover run and show', () => {
  it('uses the output sizes of the hosts read, once all are read', () => {
    const withOutput = costOfRun(meta, hosts, 1500)!;
    const withoutNodes = costOfRun(meta, [], 1500)!;

    expect(withOutput.usd).toBeGreaterThan(withoutNodes.usd);
    expect(costOfRun(undefined, hosts, 0)).toBeUndefined();
  });

  it('ends the text summary with the cost line', () => {
    const { io, captured } = fakeIO();
    const report = new RunReport('RUN', io, {
      format: 'text',
      display: 'all',
      progress: new HostProgress(undefined),
    });
    for (const h of hosts) report.host(h);
    report.finish(meta, { status: 'SUCCEEDED' }, 0);

    expect(captured.stdout.trimEnd().split('\n').at(-1)).toMatch(
      /^≈ \$0\.\d+ for 2 hosts \(estimated AWS cost/,
    );
  });

  it('prints nothing on stdout for a run that matched no host (the cost stays in --json)', () => {
    const { io, captured } = fakeIO();
    const report = new RunReport('RUN', io, {
      format: 'text',
      display: 'all',
      progress: new HostProgress(undefined),
    });
    const none = runMetaItem({ expected: 0, batchCount: 0, summary: runSummary({ expected: 0 }) });
    report.finish(none, { status: 'SUCCEEDED' }, 0);

    expect(captured.stdout).toBe('');
    expect(captured.stderr).toContain('No hosts matched');
  });

  it('carries it in --json and the --jsonl summary, valid against the schemas', () => {
    for (const format of ['json', 'jsonl'] as const) {
      const { io, captured } = fakeIO();
      const report = new RunReport('RUN', io, {
        format,
        display: 'all',
        progress: new HostProgress(undefined),
      });
      for (const h of hosts) report.host(h);
      report.finish(meta, { status: 'SUCCEEDED' }, 0);
      const lines = captured.stdout.trim().split('\n');
      const doc =
        format === 'json'
          ? runDocumentSchema.parse(JSON.parse(captured.stdout))
          : jsonlLineSchema.parse(JSON.parse(lines.at(-1)!));
      const estimated = 'estimatedCost' in doc ? doc.estimatedCost : null;

      expect(estimated?.hosts).toBe(2);
      expect(estimated?.usd).toBeCloseTo(costOfRun(meta, hosts, 1500)!.usd, 6);
    }
  });
});

describe('drover runs --total-by', () => {
  const day = (iso: string) => Date.parse(iso);
  const runs = [
    runMetaItem({ runId: 'A', caller: 'alice', expected: 100, createdAt: day('2026-11-30T23:59:00Z') }),
    runMetaItem({ runId: 'B', caller: 'bob', expected: 10, createdAt: day('2026-12-01T00:01:00Z') }),
    {
      ...runMetaItem({ runId: 'C', caller: 'alice', expected: 100, createdAt: day('2026-12-01T08:00:00Z') }),
      schedule: 'nightly',
    },
  ];

  it('groups by caller, schedule (by hand without one) and UTC day', () => {
    expect(runs.map((r) => groupKey(r, 'caller'))).toEqual(['alice', 'bob', 'alice']);
    expect(runs.map((r) => groupKey(r, 'schedule'))).toEqual([NO_SCHEDULE, NO_SCHEDULE, 'nightly']);
    expect(runs.map((r) => groupKey(r, 'day'))).toEqual(['2026-11-30', '2026-12-01', '2026-12-01']);
  });

  it('sums the runs of a group, costliest first, and the day grouping newest first', () => {
    const byCaller = runTotals(runs, 'caller');

    expect(byCaller.map((t) => [t.key, t.runs, t.hosts])).toEqual([
      ['alice', 2, 200],
      ['bob', 1, 10],
    ]);
    expect(byCaller[0]!.usd).toBeCloseTo(runRecordCost(runs[0]!) + runRecordCost(runs[2]!), 12);
    expect(runTotals(runs, 'day').map((t) => t.key)).toEqual(['2026-12-01', '2026-11-30']);
  });

  it('prints a table with the sum of all', () => {
    const text = totalsTable(runs, 'caller');

    expect(text).toMatch(/^CALLER\s+RUNS\s+HOSTS\s+EST\. COST\nalice\s+2\s+200\s+\$/);
    expect(text).toMatch(/\n\(all\)\s+3\s+210\s+\$/);
  });

  it('has a JSON shape the runs schema accepts', () => {
    const doc = {
      runs: [],
      totalBy: 'caller',
      totals: runTotals(runs, 'caller'),
    };

    expect(runsDocumentSchema.safeParse(doc).success).toBe(true);
    expect(runsDocumentSchema.safeParse({ ...doc, totalBy: 'colour' }).success).toBe(false);
  });
});
