/**
 * The deployment knobs for a large fleet (docs/deploy.md "Large fleets"), all off by default so a
 * small fleet pays nothing extra: ingest's replies event source in provisioned mode, warm
 * throughput on the runs and nodes tables, and how widely Plan reads and writes. Each is checked
 * here against the range AWS documents, so `sls package` refuses a value CloudFormation or Lambda
 * would refuse half-way through a deploy (shared/deploy-params.cjs), and the plan function reads
 * the same bounds from its environment.
 */

/**
 * SQS event source mappings in provisioned mode (Lambda API ProvisionedPollerConfig; the CDK's
 * ProvisionedPollerConfig for SQS): MinimumPollers 2–200, MaximumPollers 2–2,000 (the API reference
 * mentions 10,000 for SQS; CloudFormation's schema stops at 2,000, and the stricter one is kept).
 */
export const SQS_MIN_POLLERS = { floor: 2, ceiling: 200 } as const;
export const SQS_MAX_POLLERS = { floor: 2, ceiling: 2000, awsDefault: 200 } as const;

/**
 * What a new on-demand table serves at once without pre-warming (DynamoDB developer guide,
 * "Understanding DynamoDB warm throughput"): setting less would buy nothing, and warm throughput
 * is never lowered once raised. No ceiling is checked: AWS's per-table default quota (40,000 read
 * and 40,000 write units a second) can be raised, and docs/deploy.md says to check it first.
 */
export const ON_DEMAND_WARM_DEFAULT = { reads: 12_000, writes: 4_000 } as const;

/** Plan's parallel scan segments of the nodes table: drover's default and its bound. */
export const SCAN_SEGMENTS = { standard: 4, ceiling: 32 } as const;
/** Plan's BatchWriteItem requests in flight: drover's default and its bound. */
export const WRITES_IN_FLIGHT = { standard: 8, ceiling: 32 } as const;
/**
 * Hosts per dispatch group (one Dispatch invocation, one signature, one tally and one partition
 * of the runs table each): 500 by default, the most functions/run/state.ts allows (a unit test
 * holds the two equal). Smaller groups spread a large run's writes over more partitions and make
 * each tally update cheaper; a batch never has more than 200 groups whatever is set.
 */
export const DISPATCH_GROUP_HOSTS = { standard: 500, ceiling: 500 } as const;

export class LargeFleetConfigError extends Error {
  override name = 'LargeFleetConfigError';
}

const whole = (text: string): number | undefined => (/^\d+$/.test(text.trim()) ? Number(text) : undefined);

/** Minimum and maximum event pollers, or undefined when provisioned mode is off (min 0). */
export interface PollerConfig {
  minimum: number;
  maximum: number;
}

/**
 * The `ingestMinPollers`/`ingestMaxPollers` params: `0` (the default) leaves the event source in
 * standard mode; a minimum turns provisioned mode on, with AWS's maximum (200) unless one is given.
 * Throws LargeFleetConfigError naming the param and its range.
 */
export function ingestPollers(minText: string, maxText: string): PollerConfig | undefined {
  const min = whole(minText);
  const max = whole(maxText);
  if (min === undefined) {
    throw new LargeFleetConfigError(`param ingestMinPollers "${minText}" is not a whole number`);
  }
  if (max === undefined) {
    throw new LargeFleetConfigError(`param ingestMaxPollers "${maxText}" is not a whole number`);
  }
  if (min === 0) {
    if (max !== 0) {
      throw new LargeFleetConfigError(
        `param ingestMaxPollers "${maxText}" needs ingestMinPollers (provisioned mode is off while it is 0)`,
      );
    }
    return undefined;
  }
  if (min < SQS_MIN_POLLERS.floor || min > SQS_MIN_POLLERS.ceiling) {
    throw new LargeFleetConfigError(
      `param ingestMinPollers "${minText}" is outside ${SQS_MIN_POLLERS.floor}–${SQS_MIN_POLLERS.ceiling}, the minimum pollers an SQS event source accepts (0 turns provisioned mode off)`,
    );
  }
  const maximum = max === 0 ? Math.max(SQS_MAX_POLLERS.awsDefault, min) : max;
  if (maximum < min || maximum > SQS_MAX_POLLERS.ceiling) {
    throw new LargeFleetConfigError(
      `param ingestMaxPollers "${maxText}" must be between ingestMinPollers (${min}) and ${SQS_MAX_POLLERS.ceiling}`,
    );
  }
  return { minimum: min, maximum };
}

export interface WarmThroughput {
  reads?: number;
  writes?: number;
}

/**
 * One table's warm throughput params (`<prefix>WarmReads`, `<prefix>WarmWrites`): `0` leaves a side
 * at what DynamoDB gives a new on-demand table; otherwise at least that default (less buys
 * nothing). Undefined when both are off.
 */
export function warmThroughput(
  prefix: string,
  readsText: string,
  writesText: string,
): WarmThroughput | undefined {
  const side = (kind: 'Reads' | 'Writes', text: string, floor: number): number | undefined => {
    const value = whole(text);
    const name = `${prefix}Warm${kind}`;
    if (value === undefined) throw new LargeFleetConfigError(`param ${name} "${text}" is not a whole number`);
    if (value === 0) return undefined;
    if (value < floor) {
      throw new LargeFleetConfigError(
        `param ${name} "${text}" is below ${floor.toLocaleString('en-US')} units a second, what a new on-demand table is already warm to (0 leaves it off)`,
      );
    }
    return value;
  };
  const reads = side('Reads', readsText, ON_DEMAND_WARM_DEFAULT.reads);
  const writes = side('Writes', writesText, ON_DEMAND_WARM_DEFAULT.writes);
  if (reads === undefined && writes === undefined) return undefined;
  return { ...(reads === undefined ? {} : { reads }), ...(writes === undefined ? {} : { writes }) };
}

/**
 * A bounded count (scan segments, writes in flight) from a param or an environment variable:
 * a whole number from 1 to `ceiling`. Undefined or empty text gives the default.
 */
export function boundedCount(
  name: string,
  text: string | undefined,
  bounds: { standard: number; ceiling: number },
): number {
  if (text === undefined || text.trim() === '') return bounds.standard;
  const value = whole(text);
  if (value === undefined || value < 1 || value > bounds.ceiling) {
    throw new LargeFleetConfigError(`${name} "${text}" must be a whole number from 1 to ${bounds.ceiling}`);
  }
  return value;
}

/** Plan's read and write widths, from the plan function's environment (serverless.yml sets them). */
export interface PlanWidths {
  scanSegments: number;
  writesInFlight: number;
}

export function planWidths(env: NodeJS.ProcessEnv = process.env): PlanWidths {
  return {
    scanSegments: boundedCount('DROVER_SCAN_SEGMENTS', env.DROVER_SCAN_SEGMENTS, SCAN_SEGMENTS),
    writesInFlight: boundedCount('DROVER_WRITES_IN_FLIGHT', env.DROVER_WRITES_IN_FLIGHT, WRITES_IN_FLIGHT),
  };
}
