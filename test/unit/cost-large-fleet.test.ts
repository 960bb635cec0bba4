/**
 * The cost model at a large fleet (cli/cost/large-fleet.ts): the answer sets' write units as the
 * runs table counts them per dispatch group (a tally item per group of 500, rewritten whole by
 * every reply call), and what the stage's large-fleet params cost when set: provisioned event
 * pollers every month and per run, warm throughput once.
 */
import { describe, expect, it } from 'vitest';
import {
  defaultAssumptions,
  defaultPrices,
  estimateMonthlyCost,
  monthlyUsage,
  type Assumptions,
} from '#cli/cost/model.ts';
import { batchTallyWriteUnits, groupTallyWriteUnits } from '#cli/cost/large-fleet.ts';
import { estimateRunCost } from '#cli/cost/run-cost.ts';
import { costDocument, costInputs, costText } from '#cli/actions/cost.ts';
import { costDocumentSchema } from '#cli/output/schemas.ts';

const assumptions = (overrides: Partial<Assumptions> = {}): Assumptions => ({
  ...defaultAssumptions(),
  ...overrides,
});
const lineOf = (estimate: ReturnType<typeof estimateMonthlyCost>, item: string) => {
  const found = estimate.lines.find((l) => l.item.startsWith(item));
  if (!found) throw new Error(`no line ${item}`);
  return found;
};
/** One run a month of `hosts` hosts in one batch. */
const oneRun = (hosts: number, overrides: Partial<Assumptions> = {}) =>
  assumptions({ hosts, hostsPerRun: hosts, runsPerDay: 1 / 30, ...overrides });

describe("a dispatch group's tally item", () => {
  it('is billed its whole size, in 1 KB units, at every update', () => {
    // 2 hosts, one reply a call: 4 updates of 119, 138, 157 and 176 bytes; then the group's mark.
    expect(groupTallyWriteUnits(2, 1, 19)).toBe(4 + 1);
    // 1 KB ids: the k-th update holds k ids, so k + 1 units (100 bytes of keys tip it over).
    expect(groupTallyWriteUnits(2, 1, 1024)).toBe(2 + 3 + 4 + 5 + 1);
  });

  it('costs ~N/10 updates of half its final size for a group of 500 at 10 replies a call', () => {
    // 100 updates growing to 100 + 1,000 × 19 bytes (19 KB): 997 units, and the group's mark.
    expect(groupTallyWriteUnits(500, 10, 19)).toBe(998);
    // One reply a call (the model's worst case): 1,000 updates.
    expect(groupTallyWriteUnits(500, 1, 19)).toBe(9888);
  });

  it('grows with the square of the group, so groups stop at 500 hosts', () => {
    expect(groupTallyWriteUnits(500, 1, 19) / groupTallyWriteUnits(250, 1, 19)).toBeGreaterThan(3);
    expect(batchTallyWriteUnits(1200, 1, 19)).toBe(2 * 9888 + 1731);
    expect(batchTallyWriteUnits(0, 1, 19)).toBe(0);
  });

  it('is counted per batch of each run, replacing the batch counters', () => {
    const usage = monthlyUsage(oneRun(10_000, { batchesPerRun: 2 }));

    // Two batches of 5,000: ten full groups each.
    expect(usage.dynamo.tallyWrites).toBe(2 * 10 * groupTallyWriteUnits(500, 1, 3));
    // A host counts as its slot in the group (~3 bytes): 2,054 units a group, 9,888 with 19-byte ids.
    expect(groupTallyWriteUnits(500, 1, 3)).toBe(2054);
    // The node items' own writes no longer count the counters: ack (1) and result (2 KB).
    expect(usage.dynamo.replyWrites).toBe(10_000 * 3);
  });

  it('is part of the cost of a run, and the larger part of its writes at 10,000 hosts', () => {
    const run = estimateRunCost({ hosts: 10_000, batches: 1, watchSeconds: 0 });
    const estimate = estimateMonthlyCost(oneRun(10_000, { watchSeconds: 0 }), defaultPrices());
    const tally = lineOf(estimate, 'answer sets');

    expect(tally.quantity).toBe(20 * 2054);
    expect(tally.quantity).toBeGreaterThan(lineOf(estimate, 'acks and results').quantity);
    expect(run.byService.DynamoDB).toBeGreaterThan(tally.monthlyUsd);
  });
});

describe('provisioned event pollers (ingestMinPollers)', () => {
  it('cost nothing in standard mode, the default', () => {
    const estimate = estimateMonthlyCost(assumptions(), defaultPrices());

    expect(lineOf(estimate, 'provisioned event pollers on the replies queue').monthlyUsd).toBe(0);
    expect(lineOf(estimate, 'provisioned event pollers scaling').monthlyUsd).toBe(0);
  });

  it('bill the minimum every hour of the month at $0.00925 an event poller', () => {
    const estimate = estimateMonthlyCost(assumptions({ ingestMinPollers: 10 }), defaultPrices());

    expect(lineOf(estimate, 'provisioned event pollers on the replies queue')).toMatchObject({
      quantity: 7200,
      unit: 'EPU-hours',
    });
    expect(lineOf(estimate, 'provisioned event pollers on the replies queue').monthlyUsd).toBeCloseTo(
      66.6,
      6,
    );
    // The minimum pollers long-poll the queue instead of standard mode's 5.
    expect(monthlyUsage(assumptions({ ingestMinPollers: 10 })).sqs.eventSourcePolls).toBe(
      2 * monthlyUsage(assumptions()).sqs.eventSourcePolls,
    );
  });

  it('scale for a run by what its replies need at 1 MB/s a poller, up to the maximum, billed a minute', () => {
    // 50,000 hosts × (2 × 1 KB messages + 1 KB output) = 146.5 MB: 147 pollers for a minute.
    const large = monthlyUsage(oneRun(50_000, { ingestMinPollers: 10, ingestMaxPollers: 400 }));
    expect(large.pollerHours.scaling).toBeCloseTo(147 / 60, 9);
    // Capped by the maximum (AWS's 200 unless given): 190 above the minimum.
    const capped = monthlyUsage(oneRun(100_000, { ingestMinPollers: 10 }));
    expect(capped.pollerHours.scaling).toBeCloseTo(190 / 60, 9);
  });
});

describe('warm throughput (runs|nodesWarmReads/Writes)', () => {
  it('is paid once, apart from the monthly total, per unit raised above a new table', () => {
    const off = estimateMonthlyCost(assumptions(), defaultPrices());
    const on = estimateMonthlyCost(
      assumptions({ runsWarmWrites: 40_000, nodesWarmReads: 40_000 }),
      defaultPrices(),
    );

    expect(off.oneTime).toEqual([]);
    // Runs table and its index: 2 × 36,000 write units; nodes table: 28,000 read units.
    expect(on.oneTime[0]).toMatchObject({ quantity: 100_000, unit: 'units/s' });
    expect(on.oneTimeUsd).toBeCloseTo(72_000 * 0.00065 + 28_000 * 0.00013, 9);
    expect(on.totalMonthlyUsd).toBeCloseTo(off.totalMonthlyUsd, 9);
  });

  it('is printed under its own heading and carried in the JSON document', () => {
    const { assumptions: a, prices } = costInputs({ runsWarmWrites: 40_000 });
    const estimate = estimateMonthlyCost(a, prices);

    expect(costText(a, prices, estimate)).toContain('Once, when the stage is deployed with it');
    expect(costText(a, prices, estimate)).toContain('One-time total: 46.80 USD');
    expect(costDocumentSchema.parse(costDocument(a, prices, estimate)).oneTimeUsd).toBe(46.8);
    const plain = costInputs({});
    expect(
      costText(plain.assumptions, plain.prices, estimateMonthlyCost(plain.assumptions, plain.prices)),
    ).not.toContain('Once, when');
  });
});

describe('drover cost flags for the stage params', () => {
  it.each([
    [{ ingestMinPollers: 1 }, '--ingest-min-pollers "1" is outside 2–200'],
    [
      { ingestMinPollers: 10, ingestMaxPollers: 5 },
      '--ingest-max-pollers "5" must be between --ingest-min-pollers (10)',
    ],
    [{ runsWarmWrites: 100 }, '--runs-warm-writes "100" is below 4,000 units a second'],
    [{ nodesWarmReads: 0.5 }, '--nodes-warm-reads "0.5" is not a whole number'],
    [{ tallyMemberBytes: 0 }, '--tally-member-bytes must be above 0'],
  ])('refuses %o as sls package would', (flags, message) => {
    expect(() => costInputs(flags)).toThrow(message);
  });
});
