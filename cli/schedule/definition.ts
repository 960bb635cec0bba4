/**
 * `drover schedule create|update` flags → the definition of an EventBridge Scheduler schedule
 * (expression, time zone, window, the run request it starts), checked before anything is sent:
 * the expression and time zone as the Scheduler checks them, the command, filter and run options
 * with the code `drover run` and Plan use.
 */
import {
  InvalidScheduleExpression,
  UnknownTimeZone,
  atInstant,
  checkTimeZone,
  parseScheduleExpression,
  type ScheduleExpression,
} from '#shared/schedule/expression.ts';
import { scheduleNameProblem } from '#shared/schedule/names.ts';
import {
  InvalidScheduleInput,
  parseScheduleRunInput,
  type ScheduleRunInput,
} from '#shared/schedule/run-input.ts';
import { formatInZone } from '#shared/schedule/zoned-time.ts';
import { CliError } from '../errors.ts';
import { buildRunRequest, type RunFlags } from '../run-request.ts';

export interface WhenFlags {
  cron?: string;
  rate?: string;
  at?: string;
  timezone?: string;
  window?: string;
}

export interface ScheduleFlags extends WhenFlags, Omit<RunFlags, 'nodes' | 'limitSeed'> {
  allowOverlap?: boolean;
}

export interface ScheduleDefinition {
  expression: string;
  timeZone: string;
  /** Minutes of EventBridge Scheduler's flexible time window; undefined = fire on time. */
  windowMinutes?: number;
  input: ScheduleRunInput;
}

export function checkScheduleName(name: string): void {
  const problem = scheduleNameProblem(name);
  if (problem) throw new CliError(`"${name}" cannot name a schedule: ${problem}`);
}

/** Unix's five cron fields → AWS's six: day-of-week numbers shift (0=SUN → 1), `?` where AWS wants it. */
function fromUnixCron(fields: string[]): string {
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  if (dom !== '*' && dow !== '*') {
    throw new CliError(
      `--cron "${fields.join(' ')}": EventBridge Scheduler cannot match a day of the month and a day of the week together; keep one of them *`,
    );
  }
  const shifted = dow.replace(/\d+/g, (n) => String((Number(n) % 7) + 1));
  return dom === '*' && dow !== '*'
    ? `cron(${minute} ${hour} ? ${month} ${shifted} *)`
    : `cron(${minute} ${hour} ${dom} ${month} ? *)`;
}

/** The Scheduler expression of --cron (5 Unix or 6 AWS fields), --rate or --at. */
export function expressionOf(flags: WhenFlags): string {
  const given = (['cron', 'rate', 'at'] as const).filter((k) => flags[k] !== undefined);
  if (given.length !== 1) {
    throw new CliError(
      given.length === 0
        ? "say when: --cron '0 3 * * *', --rate '15 minutes' or --at 2026-12-24T22:00"
        : `give one of --cron, --rate and --at, not ${given.map((k) => `--${k}`).join(' and ')}`,
    );
  }
  if (flags.cron !== undefined) {
    const text = flags.cron.trim();
    if (/^cron\(.*\)$/s.test(text)) return text;
    const fields = text.split(/\s+/);
    return fields.length === 5 ? fromUnixCron(fields) : `cron(${text})`;
  }
  if (flags.rate !== undefined) {
    const text = flags.rate.trim();
    return /^rate\(.*\)$/s.test(text) ? text : `rate(${text})`;
  }
  const at = flags.at!.trim().replace(/^at\((.*)\)$/s, '$1');
  return `at(${/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(at) ? `${at}:00` : at})`;
}

/** `--window 10m`, `2h`, `90` (minutes) or `off`: minutes 1-1440, as FlexibleTimeWindow allows. */
export function windowMinutes(text: string | undefined): number | undefined {
  if (text === undefined || text === 'off' || text === '0') return undefined;
  const match = /^(\d+)\s*(m|min|h)?$/.exec(text.trim());
  const minutes = match ? Number(match[1]) * (match[2] === 'h' ? 60 : 1) : NaN;
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    throw new CliError(`--window must be 1m to 24h (e.g. 10m, 2h) or off, got "${text}"`);
  }
  return minutes;
}

/** Parses and checks expression and time zone; a past or nonexistent --at is refused. */
export function checkWhen(expression: string, timeZone: string, now: number): ScheduleExpression {
  try {
    checkTimeZone(timeZone);
    const parsed = parseScheduleExpression(expression);
    if (parsed.kind === 'at') {
      const instant = atInstant(parsed, timeZone);
      if (instant === undefined) {
        throw new CliError(
          `--at ${expression}: that time does not exist in ${timeZone} (the clocks skip it)`,
        );
      }
      if (instant <= now) {
        throw new CliError(
          `--at ${expression} is in the past (${formatInZone(instant, timeZone)}; now ${formatInZone(now, timeZone)})`,
        );
      }
    }
    return parsed;
  } catch (error: unknown) {
    if (error instanceof InvalidScheduleExpression || error instanceof UnknownTimeZone) {
      throw new CliError(error.message, 4, { cause: error });
    }
    throw error;
  }
}

/** The run request a schedule starts: validated as `drover run` validates it, without a run id. */
export function scheduleRunInput(
  name: string,
  command: string,
  flags: ScheduleFlags,
  caller: string,
): ScheduleRunInput {
  if (command.trim() === '') throw new CliError('the command is empty: give one, e.g. "apt-get -y upgrade"');
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the run id comes from each fire
  const { runId, ...request } = buildRunRequest(
    '00000000000000000000000000',
    command,
    flags,
    `schedule:${name} (${caller})`,
  );
  return checkedInput({ ...request, schedule: { name, allowOverlap: flags.allowOverlap ?? false } });
}

export function checkedInput(input: unknown): ScheduleRunInput {
  try {
    return parseScheduleRunInput(input);
  } catch (error: unknown) {
    if (error instanceof InvalidScheduleInput) throw new CliError(error.message, 4, { cause: error });
    throw error;
  }
}

/** The warning `--batch` without `--max-errors` earns (a failing command rolls through everything). */
export function rollingWarning(input: ScheduleRunInput): string | undefined {
  if (input.options.batchSize === undefined || input.options.maxErrors !== undefined) return undefined;
  return (
    'warning: --batch without --max-errors: a command that fails on every host will still roll through the whole fleet, batch after batch; ' +
    'add --max-errors 1 (or a share, 5%) to stop after the first failures\n'
  );
}
