/**
 * Turns `drover run` flags into the run state machine's input, checking everything that can be
 * checked before anything is sent: the filter parses, numbers are numbers.
 */
import { FilterSyntaxError, formatFilterError, parseFilter } from '#shared/filter/index.ts';
import { describeZodError, runRequestSchema, type FilterSpec, type RunRequest } from '#shared/messages.ts';
import { CliError } from './errors.ts';

export interface FilterFlags {
  with?: string[];
  wf?: string[];
  wc?: string[];
  wi?: string[];
  select?: string;
}

export interface RunFlags extends FilterFlags {
  timeout?: number;
  dt?: number;
  ttl?: number;
  batch?: number;
  batchSleep?: number;
  maxErrors?: number;
  limit?: number;
}

export function filterSpecFrom(flags: FilterFlags): FilterSpec {
  const spec: FilterSpec = {
    with: flags.with ?? [],
    fact: flags.wf ?? [],
    class: flags.wc ?? [],
    identity: flags.wi ?? [],
    ...(flags.select !== undefined ? { select: flags.select } : {}),
  };
  try {
    parseFilter(spec);
  } catch (error: unknown) {
    if (error instanceof FilterSyntaxError) throw new CliError(formatFilterError(error), 4, { cause: error });
    throw error;
  }
  return spec;
}

/** A whole number ≥ min, for commander's option parsers. */
export function wholeNumber(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new CliError(
        `${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${value}"`,
      );
    }
    return n;
  };
}

export function buildRunRequest(runId: string, command: string, flags: RunFlags, caller: string): RunRequest {
  const parsed = runRequestSchema.safeParse({
    runId,
    action: 'exec',
    command: { shell: command },
    filter: filterSpecFrom(flags),
    caller,
    options: {
      ...(flags.timeout !== undefined ? { timeoutSec: flags.timeout } : {}),
      ...(flags.dt !== undefined ? { discoveryTimeoutSec: flags.dt } : {}),
      ...(flags.ttl !== undefined ? { ttlSec: flags.ttl } : {}),
      ...(flags.batch !== undefined ? { batchSize: flags.batch } : {}),
      ...(flags.batchSleep !== undefined ? { batchSleepSec: flags.batchSleep } : {}),
      ...(flags.maxErrors !== undefined ? { maxErrors: flags.maxErrors } : {}),
      ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    },
  });
  if (!parsed.success) throw new CliError(`invalid request: ${describeZodError(parsed.error)}`);
  return parsed.data;
}
