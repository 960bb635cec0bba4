/**
 * The input a schedule starts the `run` state machine with: the run request without a run id
 * (each fire's execution name is its run id, so a fixed input never collides), carrying the
 * schedule's name. Checked with the very schema Plan parses a request with.
 */
import { describeZodError, runInputSchema, type RunRequest } from '../messages.ts';

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
  const parsed = runInputSchema.safeParse(value);
  if (!parsed.success)
    throw new InvalidScheduleInput(`invalid run request: ${describeZodError(parsed.error)}`);
  if (!parsed.data.schedule) throw new InvalidScheduleInput('a schedule input names its schedule');
  return parsed.data;
}
