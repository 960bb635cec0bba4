import { describe, expect, it } from 'vitest';
import {
  ASSUMPTIONS,
  PRICES,
  defaultAssumptions,
  defaultPrices,
  estimateMonthlyCost,
  monthlyUsage,
  STACK_ALARMS,
  type Assumptions,
} from '#cli/cost/model.ts';
import { costDocument, costInputs, costText } from '#cli/actions/cost.ts';
import { costDocumentSchema } from '#cli/output/schemas.ts';
import { CliError } from '#cli/errors.ts';

const assumptions = (overrides: Partial<Assumptions> = {}): Assumptions => ({
  ...defaultAssumptions(),
  ...overrides,
});
const lineOf = (estimate: ReturnType<typeof estimateMonthlyCost>, item: string) => {
  const found = estimate.lines.find((l) => l.item.startsWith(item));
  if (!found) throw new Error(`no line ${item}`);
  return found;
};

describe('monthlyUsage', () => {
  it('counts every idle long poll of every agent as a billed empty receive (30-day month)', () => {
    const usage = monthlyUsage(assumptions({ hosts: 100, pollSeconds: 20 }));

    // 30 × 24 × 3600 / 20 = 129,600 polls per agent.
    expect(usage.sqs.idlePolls).toBe(12_960_000);
  });

  it('counts a heartbeat as one send and, in the worst case, one receive and one delete', () => {
    const usage = monthlyUsage(assumptions({ hosts: 100, heartbeatSeconds: 60, repliesPerIngest: 1 }));

    expect(usage.heartbeats).toBe(4_320_000);
    expect(usage.sqs.heartbeat).toBe(12_960_000);
  });

  it('bills every heartbeat write the whole nodes item, though an unchanged one sets liveness alone', () => {
    // 100 hosts every 300 s: 864,000 heartbeats; a 2 KB facts item + 0.5 KB = 3 WRU each.
    const usage = monthlyUsage(assumptions({ hosts: 100, heartbeatSeconds: 300, factsKb: 2 }));

    expect(usage.heartbeats).toBe(864_000);
    expect(usage.dynamo.heartbeatWrites).toBe(864_000 * 3);
  });

  it('counts one more whole-item write per facts change, at most one per heartbeat', () => {
    const daily = monthlyUsage(assumptions({ hosts: 100, factsChangesPerDay: 2, factsKb: 2 }));
    const everyBeat = monthlyUsage(
      assumptions({ hosts: 100, heartbeatSeconds: 300, factsChangesPerDay: 1e6 }),
    );

    expect(daily.dynamo.factsChangeWrites).toBe(100 * 2 * 30 * 3);
    expect(everyBeat.dynamo.factsChangeWrites).toBe(everyBeat.dynamo.heartbeatWrites);
  });

  it('defaults to the agent’s 300 s heartbeat', () => {
    expect(defaultAssumptions().heartbeatSeconds).toBe(300);
  });

  it('cannot bring 50 idle hosts with 50 runs a day to 5 USD by the heartbeat interval alone', () => {
    const fleet = { hosts: 50, hostsPerRun: 50, runsPerDay: 50 };
    const withDefault = estimateMonthlyCost(assumptions(fleet), defaultPrices());
    const noHeartbeats = estimateMonthlyCost(
      assumptions({ ...fleet, heartbeatSeconds: Number.POSITIVE_INFINITY }),
      defaultPrices(),
    );

    // What stays with no heartbeat and no run: long polls (20 s is SQS's longest wait), the event
    // source's polls, the signing key, the alarms and the reaper's minute (scan, invocation, log).
    const standing = [
      'agent long polls',
      'replies-queue event source polls',
      'signing key',
      'alarms',
      'reaper scans',
      'reaper (every minute)',
      'function logs of the reaper',
    ].reduce((sum, item) => sum + lineOf(noHeartbeats, item).monthlyUsd, 0);
    expect(standing).toBeCloseTo(4.27, 2);
    // Each reply call rewrites its dispatch group's tally item, whole (cli/cost/large-fleet.ts): a
    // 50-host run's tally costs 101 WRU with hosts counted by slot (153 with 19-byte node ids,
    // which made these 5.44 and 7.11; the batch counters before were counted as 100).
    expect(noHeartbeats.totalMonthlyUsd).toBeCloseTo(5.39, 2);
    expect(withDefault.totalMonthlyUsd).toBeCloseTo(7.06, 2);
  });

  it('counts the reaper: a scan of the whole nodes table, an invocation and its log lines every minute', () => {
    const usage = monthlyUsage(assumptions({ hosts: 50, factsKb: 2 }));

    // 43,200 minutes; 50 items of 2.5 KB = 32 units of 4 KB, halved (eventually consistent).
    expect(usage.lambda.reaperInvocations).toBe(43_200);
    expect(usage.dynamo.reaperReads).toBe(43_200 * 16);
    expect(usage.logs.reaperGb).toBeCloseTo((43_200 * 0.5) / (1024 * 1024), 9);
  });

  it('counts what drover run reads while it follows a run: record and index per poll, each host once', () => {
    const usage = monthlyUsage(
      assumptions({ runsPerDay: 1, scheduledRunsPerDay: 0, hostsPerRun: 50, watchSeconds: 10, outputKb: 1 }),
    );

    // 100 polls × 1.5 RRU, 50 hosts × 1 RRU, the whole run once (50 × 1.5 KB = 19 units), the record.
    expect(usage.dynamo.watchReads).toBe(30 * (150 + 50 + 19 + 1));
  });

  it("bills the stack's alarms and every invocation's log lines, ingested and kept 30 days", () => {
    const estimate = estimateMonthlyCost(assumptions({ logKbPerInvocation: 1 }), defaultPrices());
    const usage = monthlyUsage(assumptions({ logKbPerInvocation: 1 }));
    const invocations =
      usage.lambda.runInvocations + usage.lambda.ingestInvocations + usage.lambda.eventInvocations;

    expect(lineOf(estimate, 'alarms')).toMatchObject({
      quantity: STACK_ALARMS,
      monthlyUsd: STACK_ALARMS * 0.1,
    });
    expect(usage.logs.runGb).toBeCloseTo(invocations / (1024 * 1024), 9);
    expect(lineOf(estimate, 'function logs of runs').monthlyUsd).toBeCloseTo(usage.logs.runGb * 0.53, 9);
  });

  it('names the AWS pricing page of every price', () => {
    for (const price of PRICES)
      expect(price.source, price.flag).toMatch(/^https:\/\/aws\.amazon\.com\/[a-z-]+\/pricing\//);
  });

  it('counts 9 SQS requests per host and run: request sent, received, deleted; ack and result sent and consumed', () => {
    const usage = monthlyUsage(assumptions({ runsPerDay: 10, hostsPerRun: 20, outputKb: 1 }));

    expect(usage.hostRuns).toBe(6_000);
    expect(usage.sqs.perHostRun).toBe(6_000 * 9);
  });

  it('bills a result by 64 KB chunks of its payload', () => {
    const small = monthlyUsage(assumptions({ outputKb: 1 }));
    const large = monthlyUsage(assumptions({ outputKb: 128 }));

    // 1 + 128 KB = three chunks instead of one: two more requests per host and run.
    expect(large.sqs.perHostRun - small.sqs.perHostRun).toBe(small.hostRuns * 2);
  });

  it('counts 3 state transitions per run and 5 per batch', () => {
    expect(monthlyUsage(assumptions({ runsPerDay: 1, batchesPerRun: 1 })).transitions).toBe(30 * 8);
    expect(monthlyUsage(assumptions({ runsPerDay: 1, batchesPerRun: 4 })).transitions).toBe(30 * 23);
  });

  it('signs once per batch and 500 hosts', () => {
    expect(monthlyUsage(assumptions({ runsPerDay: 1, hosts: 1_200, hostsPerRun: 1_200 })).kms.signs).toBe(
      30 * 3,
    );
    expect(
      monthlyUsage(assumptions({ runsPerDay: 1, hosts: 1_200, hostsPerRun: 1_200, batchesPerRun: 4 })).kms
        .signs,
    ).toBe(30 * 4);
  });

  it('shares receives and ingest invocations among the replies of one batch', () => {
    const one = monthlyUsage(assumptions({ repliesPerIngest: 1 }));
    const ten = monthlyUsage(assumptions({ repliesPerIngest: 10 }));

    expect(ten.lambda.ingestInvocations).toBeCloseTo(one.lambda.ingestInvocations / 10);
  });
});

describe('estimateMonthlyCost', () => {
  it('prices each line from its quantity: 12.96 M empty receives at 0.40 USD a million', () => {
    const estimate = estimateMonthlyCost(assumptions({ hosts: 100 }), defaultPrices());

    expect(lineOf(estimate, 'agent long polls').monthlyUsd).toBeCloseTo(5.184, 6);
    expect(lineOf(estimate, 'signing key').monthlyUsd).toBe(1);
  });

  it('prices Lambda by requests and GB-seconds', () => {
    const a = assumptions({ lambdaMemoryMb: 1024, lambdaMs: 1000 });
    const prices = { ...defaultPrices(), lambdaPerMillion: 0, lambdaPerGbSecond: 1 };

    const line = lineOf(estimateMonthlyCost(a, prices), 'ingest');

    // 1 GB for 1 s at 1 USD a GB-second: one dollar per invocation.
    expect(line.monthlyUsd).toBeCloseTo(line.quantity, 3);
  });

  it('totals the lines, and the services add up to the total', () => {
    const estimate = estimateMonthlyCost(assumptions(), defaultPrices());
    const sum = estimate.lines.reduce((total, l) => total + l.monthlyUsd, 0);

    expect(estimate.totalMonthlyUsd).toBeCloseTo(sum, 9);
    expect(Object.values(estimate.byService).reduce((a, b) => a + b, 0)).toBeCloseTo(sum, 9);
    expect(Object.keys(estimate.byService)).toEqual([
      'SQS',
      'DynamoDB',
      'Step Functions',
      'Lambda',
      'CloudWatch',
      'KMS',
      'EventBridge',
      'EventBridge Scheduler',
    ]);
  });

  it('costs a scheduled run as a run nobody follows, plus its Scheduler invocation beyond the free tier', () => {
    const base = estimateMonthlyCost(assumptions({ scheduledRunsPerDay: 0 }), defaultPrices());
    const hourly = estimateMonthlyCost(assumptions({ scheduledRunsPerDay: 24 }), defaultPrices());
    const usage = monthlyUsage(assumptions({ scheduledRunsPerDay: 24 }));
    const watch = (e: typeof base) => e.lines.find((l) => l.item === 'drover run following results')!;
    const scheduler = (e: typeof base) => e.lines.find((l) => l.service === 'EventBridge Scheduler')!;

    expect(usage.runs).toBe((assumptions().runsPerDay + 24) * 30);
    expect(scheduler(hourly)).toMatchObject({ quantity: 720, monthlyUsd: 0 }); // within the 14 million free
    expect(hourly.totalMonthlyUsd).toBeGreaterThan(base.totalMonthlyUsd);
    expect(watch(hourly).quantity).toBe(watch(base).quantity);
    // 20 million invocations a month: 6 million billed.
    const busy = estimateMonthlyCost(assumptions({ scheduledRunsPerDay: 20e6 / 30 }), defaultPrices());
    expect(scheduler(busy).monthlyUsd).toBeCloseTo(6, 6);
  });

  it('scales with prices: doubling every price doubles the total', () => {
    const prices = defaultPrices();
    const doubled = Object.fromEntries(Object.entries(prices).map(([k, v]) => [k, v * 2])) as typeof prices;

    expect(estimateMonthlyCost(assumptions(), doubled).totalMonthlyUsd).toBeCloseTo(
      estimateMonthlyCost(assumptions(), prices).totalMonthlyUsd * 2,
      9,
    );
  });

  it('costs less with a longer heartbeat, and nothing for a service priced at zero', () => {
    const base = estimateMonthlyCost(assumptions({ heartbeatSeconds: 60 }), defaultPrices());
    const slower = estimateMonthlyCost(assumptions({ heartbeatSeconds: 300 }), defaultPrices());
    const freeSqs = estimateMonthlyCost(assumptions(), { ...defaultPrices(), sqsPerMillion: 0 });

    expect(slower.totalMonthlyUsd).toBeLessThan(base.totalMonthlyUsd);
    expect(freeSqs.byService.SQS).toBe(0);
  });
});

describe('costInputs', () => {
  it('uses the defaults, with hosts per run following the fleet size', () => {
    const { assumptions: a, prices } = costInputs({ hosts: 400 });

    expect(a.hosts).toBe(400);
    expect(a.hostsPerRun).toBe(400);
    expect(prices).toEqual(defaultPrices());
  });

  it('takes every assumption and price from its flag', () => {
    const flags = Object.fromEntries([...ASSUMPTIONS, ...PRICES].map((p, i) => [p.key, i + 1]));

    // The large-fleet flags stand for stage params with ranges of their own (checked below).
    const largeFleet = { ingestMinPollers: 20, ingestMaxPollers: 300, runsWarmReads: 20_000 };
    const { assumptions: a, prices } = costInputs({
      ...flags,
      ...largeFleet,
      runsWarmWrites: 0,
      nodesWarmReads: 0,
      nodesWarmWrites: 0,
      hosts: 1_000,
    });

    expect(a.pollSeconds).toBe(2);
    expect(a).toMatchObject(largeFleet);
    expect(prices[PRICES.at(-1)!.key]).toBe(ASSUMPTIONS.length + PRICES.length);
  });

  it('refuses more hosts per run than hosts, and zero intervals', () => {
    expect(() => costInputs({ hosts: 10, hostsPerRun: 11 })).toThrow(CliError);
    expect(() => costInputs({ pollSeconds: 0 })).toThrow('--poll-seconds must be above 0');
  });
});

describe('cost output', () => {
  it('prints every assumption and price with its flag, and a JSON document valid against its schema', () => {
    const { assumptions: a, prices } = costInputs({});
    const estimate = estimateMonthlyCost(a, prices);

    const text = costText(a, prices, estimate);
    const doc = costDocumentSchema.parse(costDocument(a, prices, estimate));

    for (const p of [...ASSUMPTIONS, ...PRICES]) expect(text).toContain(`  ${p.flag} `);
    expect(text).toMatch(/--price-lambda-per-gb-second +0\.0000133334 USD/);
    expect(doc.assumptions.map((x) => x.flag)).toEqual(ASSUMPTIONS.map((x) => x.flag));
    expect(doc.totalMonthlyUsd).toBeCloseTo(estimate.totalMonthlyUsd, 3);
  });
});
