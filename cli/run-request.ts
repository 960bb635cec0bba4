/**
 * Turns `drover run` (and `drover ping`) flags into the run state machine's input, checking
 * everything that can be checked before anything is sent: the filter parses, numbers are numbers.
 */
import {
  describeZodError,
  runRequestSchema,
  type Action,
  type HostCount,
  type RunRequest,
} from '#shared/messages.ts';
import { CliError } from './errors.ts';
import { groupAddressing, type GroupFlags } from './group-addressing.ts';
import { filterSpecFrom, type FilterFlags } from './filter-flags.ts';

// Where they were first defined; commands import them from filter-flags.ts (no zod schemas loaded).
export { filterSpecFrom, hasFilter, type FilterFlags } from './filter-flags.ts';

export interface RunFlags extends FilterFlags, GroupFlags {
  timeout?: number;
  dt?: number;
  ttl?: number;
  batch?: HostCount;
  batchSleep?: number;
  maxErrors?: HostCount;
  limit?: HostCount;
  limitSeed?: string;
  /** Identities or node ids to address (from `--nodes`). */
  nodes?: string[];
}

/** Step Functions refuses execution inputs over 256 KiB; stay clear of it with a margin. */
export const MAX_REQUEST_BYTES = 250 * 1024;

export function buildRunRequest(
  runId: string,
  command: string | undefined,
  flags: RunFlags,
  caller: string,
  action: Action = 'exec',
): RunRequest {
  const { filter, ordinal } = groupAddressing(filterSpecFrom(flags), flags);
  const parsed = runRequestSchema.safeParse({
    runId,
    action,
    ...(command !== undefined ? { command: { shell: command } } : {}),
    filter,
    caller,
    options: {
      ...(flags.timeout !== undefined ? { timeoutSec: flags.timeout } : {}),
      ...(flags.dt !== undefined ? { discoveryTimeoutSec: flags.dt } : {}),
      ...(flags.ttl !== undefined ? { ttlSec: flags.ttl } : {}),
      ...(flags.batch !== undefined ? { batchSize: flags.batch } : {}),
      ...(flags.batchSleep !== undefined ? { batchSleepSec: flags.batchSleep } : {}),
      ...(flags.maxErrors !== undefined ? { maxErrors: flags.maxErrors } : {}),
      ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
      ...(flags.limitSeed !== undefined ? { limitSeed: flags.limitSeed } : {}),
      ...(flags.nodes !== undefined ? { nodes: flags.nodes } : {}),
      ...(ordinal !== undefined ? { ordinal } : {}),
    },
  });
  if (!parsed.success) throw new CliError(`invalid request: ${describeZodError(parsed.error)}`);
  const size = Buffer.byteLength(JSON.stringify(parsed.data));
  if (size > MAX_REQUEST_BYTES) {
    throw new CliError(
      `the request is ${Math.ceil(size / 1024)} KiB, over Step Functions' 256 KiB input limit: address fewer --nodes at once (split the list) or use a filter`,
    );
  }
  return parsed.data;
}
