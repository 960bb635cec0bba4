/**
 * The input a schedule starts the `run` state machine with: the run request without a run id
 * (each fire's execution name is its run id, so a fixed input never collides), carrying the
 * schedule's name. Checked with the very schema Plan parses a request with.
 */
import { describeZodError, runRequestSchema, type RunRequest } from '../messages.ts';

/**
 * A syntactically valid run id, only so `runRequestSchema` (which still wants one, until run ids
 * come from the execution name) can check the rest of a schedule's input.
 */
const PLACEHOLDER_RUN_ID = '00000000000000000000000000';

export type ScheduleRunInput = Omit<RunRequest, 'runId'>;

export class InvalidScheduleInput extends Error {
  override name = 'InvalidScheduleInput';
}

/** Parses a schedule's input (JSON text or a value); throws InvalidScheduleInput naming the problem. */
export function parseScheduleRunInput(input: unknown): ScheduleRunInput {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input) as unknown;
    } catch {
      throw new InvalidScheduleInput('the schedule input is not JSON');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || 'runId' in value) {
    throw new InvalidScheduleInput('a schedule input is a run request object without a runId');
  }
  const parsed = runRequestSchema.safeParse({ ...value, runId: PLACEHOLDER_RUN_ID });
  if (!parsed.success)
    throw new InvalidScheduleInput(`invalid run request: ${describeZodError(parsed.error)}`);
  if (!parsed.data.schedule) throw new InvalidScheduleInput('a schedule input names its schedule');
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the placeholder is dropped
  const { runId, ...rest } = parsed.data;
  return rest;
}
