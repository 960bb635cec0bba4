/**
 * The estimated AWS cost of ONE run, from its counts, with the same formulas and prices as
 * `drover cost` (model.ts): the monthly model is evaluated for a month holding exactly this one
 * run and no fleet background (no heartbeats), and only the lines a run causes are kept. So the
 * two can never disagree on a price or on how many requests a host costs.
 */
import {
  DAYS_PER_MONTH,
  PRICES_AS_OF,
  defaultAssumptions,
  defaultPrices,
  estimateMonthlyCost,
  type Prices,
} from './model.ts';

/** What is known of a run when its cost is estimated. */
export interface RunCounts {
  /** Hosts the run targeted (planned). */
  hosts: number;
  /** Batches it was planned in (at least 1 when there were hosts). */
  batches: number;
  /** stdout + stderr bytes kept, all hosts together; default: the model's 1 KB per host. */
  outputBytes?: number;
  /**
   * Hosts in the facts table Plan scanned; default: the run's hosts (a lower bound when a
   * filter narrowed the fleet — the scan reads every host either way).
   */
  fleetHosts?: number;
  /** How long `drover run` followed the run (its control-plane duration); 0 for --async. */
  watchSeconds?: number;
}

/**
 * The model lines a run causes; the rest (idle polls, heartbeats, storage, the key, the reaper,
 * the alarms) are the fleet's.
 */
const RUN_ITEMS: ReadonlySet<string> = new Set([
  'runs: request, ack, result per host',
  'run records (plan, waits, close, finish)',
  'acks and results',
  "answer sets (each reply call rewrites its dispatch group's tally item, whole)",
  'provisioned event pollers scaling for runs',
  'discovery scans',
  'run steps reading node items',
  'drover run following results',
  'state transitions',
  'run steps',
  'ingest',
  'Run Completed targets (event log, lifecycle)',
  'function logs of runs and replies',
  'Sign (once per batch and 500 hosts)',
  'Run Completed events',
]);

export interface RunCost {
  usd: number;
  hosts: number;
  byService: Record<string, number>;
  pricesAsOf: string;
}

export function estimateRunCost(counts: RunCounts, prices: Prices = defaultPrices()): RunCost {
  const hosts = Math.max(0, counts.hosts);
  const a = defaultAssumptions();
  a.runsPerDay = 1 / DAYS_PER_MONTH; // one run in the month
  a.hostsPerRun = hosts;
  a.hosts = Math.max(hosts, counts.fleetHosts ?? hosts);
  a.batchesPerRun = hosts === 0 ? 0 : Math.max(1, counts.batches);
  a.heartbeatSeconds = Number.POSITIVE_INFINITY; // heartbeats are the fleet's, not the run's
  if (counts.outputBytes !== undefined && hosts > 0) a.outputKb = counts.outputBytes / 1024 / hosts;
  if (counts.watchSeconds !== undefined) a.watchSeconds = Math.max(0, counts.watchSeconds);
  const estimate = estimateMonthlyCost(a, prices);
  const byService: Record<string, number> = {};
  let usd = 0;
  for (const line of estimate.lines) {
    // A run with no hosts has no batch: 0 batches × ceil(0 hosts / 0 batches) signatures is NaN.
    if (!RUN_ITEMS.has(line.item) || !Number.isFinite(line.monthlyUsd)) continue;
    byService[line.service] = (byService[line.service] ?? 0) + line.monthlyUsd;
    usd += line.monthlyUsd;
  }
  return { usd, hosts, byService, pricesAsOf: PRICES_AS_OF };
}

/** Every run line must exist in the model: a renamed line would silently drop from the price. */
export function missingRunItems(): string[] {
  const items = new Set(estimateMonthlyCost(defaultAssumptions(), defaultPrices()).lines.map((l) => l.item));
  return [...RUN_ITEMS].filter((item) => !items.has(item));
}

/** `$0.0012`, `$0.085`: two significant digits below a dollar, cents above. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  const decimals = Math.min(10, 1 - Math.floor(Math.log10(usd)));
  return `$${usd.toFixed(decimals)}`;
}

/**
 * `12,345`: a count as `toLocaleString('en-US')` writes it, without building ICU's number format,
 * which costs `drover run` 10–15 ms of CPU at the end of every run for this one number.
 */
export function groupThousands(count: number): string {
  if (!Number.isSafeInteger(count) || Object.is(count, -0)) return count.toLocaleString('en-US');
  return String(count).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** "≈ $0.0010 for 100 hosts (estimated AWS cost; drover cost explains the model)". */
export function runCostText(cost: RunCost): string {
  const hosts = `${groupThousands(cost.hosts)} host${cost.hosts === 1 ? '' : 's'}`;
  return `≈ ${formatUsd(cost.usd)} for ${hosts} (estimated AWS cost; drover cost explains the model)`;
}

/** Rounded for JSON documents: a micro-dollar is below any bill's resolution. */
export const microUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;
