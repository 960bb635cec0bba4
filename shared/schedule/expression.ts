/**
 * EventBridge Scheduler's schedule expressions, checked the way the service checks them and
 * evaluated the way it fires them, for the CLI (refuse before creating), the local scheduler
 * (fire) and `drover schedule show` (next fire times):
 *
 * - `cron(min hour day-of-month month day-of-week year)`: six fields; day-of-week 1-7 = SUN-SAT;
 *   exactly one of day-of-month and day-of-week is `?`; `L`, `W` (day-of-month), `L`, `#`
 *   (day-of-week); year 1970-2199. Evaluated on the wall clock of the schedule's time zone: a time
 *   a spring-forward change skips does not fire, a time a fall-back change repeats fires once.
 * - `rate(n minute|minutes|hour|hours|day|days)`: every n units of fixed length from the start
 *   (a day is 24 hours, whatever DST does); the unit agrees with n (`1 minute`, `5 minutes`).
 * - `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time of the schedule's time zone.
 *
 * Cron fields are matched by croner (a maintained cron library) in UTC over wall-clock times, and
 * each match is then mapped to the zone's instants here, which is where the DST rules live.
 */
import { Cron } from 'croner';
import { instantsOfWallClock, isKnownTimeZone, wallClockAt } from './zoned-time.ts';

export class InvalidScheduleExpression extends Error {
  override name = 'InvalidScheduleExpression';
}

export type ScheduleExpression =
  | { kind: 'cron'; text: string; fields: string[]; pattern: string }
  | { kind: 'rate'; text: string; value: number; unit: 'minute' | 'hour' | 'day'; periodMs: number }
  | { kind: 'at'; text: string; wall: number };

/** ScheduleExpression's length limit in the Scheduler API. */
export const MAX_EXPRESSION_LENGTH = 256;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}
const FIELDS: FieldRule[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS },
  { name: 'year', min: 1970, max: 2199 },
];
const DOM = 2;
const DOW = 4;

function bad(expression: string, why: string): InvalidScheduleExpression {
  return new InvalidScheduleExpression(`invalid schedule expression "${expression}": ${why}`);
}

/** A number or a name of the field, as the number croner reads (names: 1-based, as AWS counts). */
function value(text: string, rule: FieldRule, expression: string): number {
  const named = rule.names?.indexOf(text.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < rule.min || n > rule.max) {
    const names = rule.names ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : '';
    throw bad(expression, `${rule.name} "${text}" is not ${rule.min}-${rule.max}${names}`);
  }
  return n;
}

/** One comma-separated item of a field, checked and rewritten for croner. */
function item(text: string, index: number, expression: string): string {
  const rule = FIELDS[index]!;
  if (index === DOM) {
    if (text === 'L' || text === 'LW') return text;
    const weekday = /^(\d+)W$/.exec(text);
    if (weekday) return `${value(weekday[1]!, rule, expression)}W`;
  }
  if (index === DOW) {
    if (text === 'L') return '7';
    const last = /^(\w+)L$/.exec(text);
    if (last) return `${value(last[1]!, rule, expression)}#L`;
    const nth = /^(\w+)#(\d+)$/.exec(text);
    if (nth) {
      const n = Number(nth[2]);
      if (n < 1 || n > 5) throw bad(expression, `day-of-week "${text}": the # occurrence is 1-5`);
      return `${value(nth[1]!, rule, expression)}#${n}`;
    }
  }
  const [base = '', step, ...extra] = text.split('/');
  if (extra.length > 0) throw bad(expression, `${rule.name} "${text}" has more than one /`);
  if (step !== undefined && (!/^\d+$/.test(step) || Number(step) < 1)) {
    throw bad(expression, `${rule.name} "${text}": the increment after / is a positive whole number`);
  }
  if (step !== undefined && (index === DOW || index === DOM) && base === '') {
    throw bad(expression, `${rule.name} "${text}" has nothing before /`);
  }
  let start: string;
  if (base === '*') start = '*';
  else {
    const range = base.split('-');
    if (range.length > 2 || range.some((r) => r === '')) {
      throw bad(expression, `${rule.name} "${text}" is not a value, a range a-b, * or an increment a/b`);
    }
    start = range.map((r) => value(r, rule, expression)).join('-');
  }
  if (step !== undefined && index === DOW) throw bad(expression, `day-of-week "${text}": / is not allowed`);
  if (step === undefined) return start;
  // AWS's `0/15` (from 0, every 15) is croner's `0-59/15`.
  return /^\d+$/.test(start) ? `${start}-${rule.max}/${step}` : `${start}/${step}`;
}

function parseCron(text: string, body: string): ScheduleExpression {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw bad(
      text,
      `cron takes six fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
    );
  }
  const questions = [fields[DOM], fields[DOW]].filter((f) => f === '?').length;
  if (questions !== 1) {
    throw bad(text, 'give ? in exactly one of day-of-month and day-of-week (e.g. cron(0 3 * * ? *))');
  }
  const translated = fields.map((field, index) => {
    if (field === '?') {
      if (index !== DOM && index !== DOW) throw bad(text, `? is only for day-of-month or day-of-week`);
      return '*';
    }
    return field
      .split(',')
      .map((part) => {
        if (part === '') throw bad(text, `${FIELDS[index]!.name} "${field}" has an empty list item`);
        return item(part, index, text);
      })
      .join(',');
  });
  const pattern = ['0', ...translated].join(' ');
  try {
    new Cron(pattern, { mode: '7-part', alternativeWeekdays: true, timezone: 'UTC', paused: true });
  } catch (error: unknown) {
    throw bad(text, error instanceof Error ? error.message : String(error));
  }
  return { kind: 'cron', text, fields, pattern };
}

const RATE_UNITS: Record<string, { unit: 'minute' | 'hour' | 'day'; ms: number; plural: boolean }> = {
  minute: { unit: 'minute', ms: 60_000, plural: false },
  minutes: { unit: 'minute', ms: 60_000, plural: true },
  hour: { unit: 'hour', ms: 3_600_000, plural: false },
  hours: { unit: 'hour', ms: 3_600_000, plural: true },
  day: { unit: 'day', ms: 86_400_000, plural: false },
  days: { unit: 'day', ms: 86_400_000, plural: true },
};

function parseRate(text: string, body: string): ScheduleExpression {
  const match = /^\s*(\d+)\s+([a-z]+)\s*$/.exec(body);
  const unit = match ? RATE_UNITS[match[2]!] : undefined;
  if (!match || !unit) throw bad(text, 'rate takes a positive whole number and minute(s), hour(s) or day(s)');
  const value = Number(match[1]);
  if (value < 1) throw bad(text, 'the rate is at least 1');
  if ((value === 1) === unit.plural) {
    throw bad(text, value === 1 ? `write "1 ${unit.unit}"` : `write "${value} ${unit.unit}s"`);
  }
  return { kind: 'rate', text, value, unit: unit.unit, periodMs: value * unit.ms };
}

function parseAt(text: string, body: string): ScheduleExpression {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!match) throw bad(text, 'at takes yyyy-mm-ddThh:mm:ss, e.g. at(2026-12-24T22:00:00)');
  const [y, mo, d, h, mi, s] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(wall);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    throw bad(text, `${body} is not a date and time`);
  }
  return { kind: 'at', text, wall };
}

/** Parses and checks a Scheduler expression; throws InvalidScheduleExpression naming the problem. */
export function parseScheduleExpression(text: string): ScheduleExpression {
  if (text.length === 0 || text.length > MAX_EXPRESSION_LENGTH) {
    throw bad(text, `an expression is 1-${MAX_EXPRESSION_LENGTH} characters`);
  }
  const match = /^(cron|rate|at)\((.*)\)$/s.exec(text);
  if (!match) throw bad(text, 'use cron(...), rate(...) or at(...)');
  const [, kind, body = ''] = match;
  if (kind === 'cron') return parseCron(text, body);
  if (kind === 'rate') return parseRate(text, body);
  return parseAt(text, body);
}

export class UnknownTimeZone extends Error {
  override name = 'UnknownTimeZone';
}

/** Throws UnknownTimeZone unless `timeZone` is an IANA zone name (e.g. Europe/Berlin, UTC). */
export function checkTimeZone(timeZone: string): void {
  if (!isKnownTimeZone(timeZone)) {
    throw new UnknownTimeZone(
      `unknown time zone "${timeZone}": give an IANA name such as UTC, Europe/Berlin or America/New_York`,
    );
  }
}

/** The instant an `at` expression fires in `timeZone` (the earlier one in a repeated hour); undefined in a DST gap. */
export function atInstant(expression: Extract<ScheduleExpression, { kind: 'at' }>, timeZone: string) {
  return instantsOfWallClock(expression.wall, timeZone)[0];
}

/**
 * The next `count` fire times strictly after `after`, in epoch milliseconds. `start` anchors a
 * rate (the schedule's creation or StartDate); it is ignored by cron and at.
 */
export function nextFireTimes(
  expression: ScheduleExpression,
  timeZone: string,
  after: number,
  count: number,
  start = after,
): number[] {
  if (expression.kind === 'at') {
    const at = atInstant(expression, timeZone);
    return at !== undefined && at > after && count > 0 ? [at] : [];
  }
  if (expression.kind === 'rate') {
    const periods = after < start ? 0 : Math.floor((after - start) / expression.periodMs) + 1;
    return Array.from({ length: count }, (_, i) => start + (periods + i) * expression.periodMs);
  }
  const cron = new Cron(expression.pattern, {
    mode: '7-part',
    alternativeWeekdays: true,
    timezone: 'UTC',
    paused: true,
  });
  const out: number[] = [];
  // Wall-clock matches from a little before `after`'s wall time, so a repeated hour is covered.
  let wall: Date | null = new Date(wallClockAt(after, timeZone) - 3 * 3_600_000);
  while (out.length < count && (wall = cron.nextRun(wall)) !== null) {
    // A skipped wall time has no instant (no fire); a repeated one fires at its first instant only.
    const instant = instantsOfWallClock(wall.getTime(), timeZone)[0];
    if (instant !== undefined && instant > after && (out.length === 0 || instant > out.at(-1)!)) {
      out.push(instant);
    }
  }
  return out;
}
