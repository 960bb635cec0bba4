/**
 * `drover cost`: the monthly estimate of a stage's AWS bill for a fleet size and usage, with
 * every assumption and price printed and overridable by its flag. No AWS call is made.
 */
import { EXIT, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import {
  ASSUMPTIONS,
  PRICES,
  PRICES_AS_OF,
  PRICES_REGION,
  defaultAssumptions,
  defaultPrices,
  estimateMonthlyCost,
  type Assumptions,
  type CostEstimate,
  type Parameter,
  type Prices,
} from '../cost/model.ts';
import { columns } from '../output/format.ts';
import { ingestPollers, LargeFleetConfigError, warmThroughput } from '#shared/large-fleet.ts';
import type { z } from 'zod';
import type { costDocumentSchema } from '../output/schemas.ts';

/** The flags given, keyed by model key (`hosts`, `sqsPerMillion`, …). */
export interface CostFlags extends Partial<Record<string, number | boolean>> {
  json?: boolean;
}

export function costInputs(flags: CostFlags): { assumptions: Assumptions; prices: Prices } {
  const assumptions = defaultAssumptions();
  const prices = defaultPrices();
  const given = (key: string) => (typeof flags[key] === 'number' ? flags[key] : undefined);
  for (const a of ASSUMPTIONS) assumptions[a.key] = given(a.key) ?? assumptions[a.key];
  for (const p of PRICES) prices[p.key] = given(p.key) ?? prices[p.key];
  // The average run targets the whole fleet unless told otherwise.
  if (flags.hostsPerRun === undefined) assumptions.hostsPerRun = assumptions.hosts;
  if (assumptions.hostsPerRun > assumptions.hosts) {
    throw new CliError(
      `--hosts-per-run (${assumptions.hostsPerRun}) cannot exceed --hosts (${assumptions.hosts})`,
    );
  }
  for (const a of [
    'pollSeconds',
    'heartbeatSeconds',
    'repliesPerIngest',
    'batchesPerRun',
    'tallyMemberBytes',
  ] as const) {
    if (assumptions[a] <= 0)
      throw new CliError(`${ASSUMPTIONS.find((x) => x.key === a)?.flag} must be above 0`);
  }
  largeFleetChecks(assumptions);
  return { assumptions, prices };
}

/** The stage params the large-fleet flags stand for, checked as `sls package` checks them. */
function largeFleetChecks(a: Assumptions): void {
  // The checks name the params (`param ingestMinPollers "1" …`); here they are the flags.
  const flagOf = (message: string) =>
    message
      .replace(
        /^param (\w+)/,
        (_, name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
      )
      .replace(/ingestMinPollers/g, '--ingest-min-pollers');
  try {
    ingestPollers(String(a.ingestMinPollers), String(a.ingestMaxPollers));
    warmThroughput('runs', String(a.runsWarmReads), String(a.runsWarmWrites));
    warmThroughput('nodes', String(a.nodesWarmReads), String(a.nodesWarmWrites));
  } catch (error: unknown) {
    if (error instanceof LargeFleetConfigError)
      throw new CliError(flagOf(error.message), 4, { cause: error });
    throw error;
  }
}

const usd = (value: number) => (value >= 0.01 || value === 0 ? value.toFixed(2) : value.toFixed(4));
const count = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 3 : 0 });

function parameterRows(parameters: readonly Parameter[], values: Record<string, number>): string[][] {
  return parameters.map((p) => {
    const value = values[p.key]!;
    return [`  ${p.flag}`, `${p.unit === 'USD' ? String(value) : count(value)} ${p.unit}`, p.meaning];
  });
}

const cents = (value: number) => Math.round(value * 1e4) / 1e4;

export function costText(assumptions: Assumptions, prices: Prices, estimate: CostEstimate): string {
  const lines = [
    `Monthly estimate for ${count(assumptions.hosts)} hosts, ${count(assumptions.runsPerDay)} runs a day` +
      (assumptions.scheduledRunsPerDay > 0
        ? ` and ${count(assumptions.scheduledRunsPerDay)} scheduled`
        : '') +
      ` on ${count(assumptions.hostsPerRun)} hosts each (30-day month)`,
    '',
    'Assumptions (override with the flag shown):',
    columns(parameterRows(ASSUMPTIONS, assumptions)),
    '',
    `Prices (${PRICES_REGION} list prices as of ${PRICES_AS_OF}; override with the flag shown):`,
    columns(parameterRows(PRICES, prices)),
    '',
    columns([
      ['  SERVICE', 'ITEM', 'QUANTITY', 'UNIT', 'USD/MONTH'],
      ...estimate.lines.map((l) => [`  ${l.service}`, l.item, count(l.quantity), l.unit, usd(l.monthlyUsd)]),
    ]),
    '',
    'By service:',
    columns(Object.entries(estimate.byService).map(([service, total]) => [`  ${service}`, usd(total)])),
    '',
    `Total: ${usd(estimate.totalMonthlyUsd)} USD per month`,
    ...oneTimeText(estimate),
    'Not included: free tiers, data transfer, the hosts themselves.',
  ];
  return lines.join('\n') + '\n';
}

/** Warm throughput is paid once, when the stage is deployed with it: shown apart from the month. */
function oneTimeText(estimate: CostEstimate): string[] {
  if (estimate.oneTime.length === 0) return [];
  return [
    '',
    'Once, when the stage is deployed with it (not in the monthly total):',
    columns(estimate.oneTime.map((l) => [`  ${l.service}`, l.item, count(l.quantity), l.unit, usd(l.usd)])),
    `One-time total: ${usd(estimate.oneTimeUsd)} USD`,
  ];
}

export function costDocument(
  assumptions: Assumptions,
  prices: Prices,
  estimate: CostEstimate,
): z.infer<typeof costDocumentSchema> {
  const describe = (parameters: readonly Parameter[], values: Record<string, number>) =>
    parameters.map((p) => ({ flag: p.flag, value: values[p.key]!, unit: p.unit, meaning: p.meaning }));
  return {
    pricesAsOf: PRICES_AS_OF,
    region: PRICES_REGION,
    assumptions: describe(ASSUMPTIONS, assumptions),
    prices: describe(PRICES, prices),
    lines: estimate.lines.map((l) => ({ ...l, monthlyUsd: cents(l.monthlyUsd) })),
    byService: Object.fromEntries(Object.entries(estimate.byService).map(([s, v]) => [s, cents(v)])),
    totalMonthlyUsd: cents(estimate.totalMonthlyUsd),
    oneTime: estimate.oneTime.map((l) => ({ ...l, usd: cents(l.usd) })),
    oneTimeUsd: cents(estimate.oneTimeUsd),
  };
}

export function costCommand(flags: CostFlags, ctx: CommandContext): number {
  const { assumptions, prices } = costInputs(flags);
  const estimate = estimateMonthlyCost(assumptions, prices);
  ctx.io.out(
    flags.json
      ? JSON.stringify(costDocument(assumptions, prices, estimate), null, 2) + '\n'
      : costText(assumptions, prices, estimate),
  );
  return EXIT.ok;
}
