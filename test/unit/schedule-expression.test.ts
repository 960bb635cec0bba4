/**
 * EventBridge Scheduler expressions: what the service accepts, and when a schedule fires, across
 * daylight saving changes (a skipped wall-clock time does not fire, a repeated one fires once).
 */
import { describe, expect, it } from 'vitest';
import {
  nextFireTimes,
  parseScheduleExpression,
  checkTimeZone,
  InvalidScheduleExpression,
} from '#shared/schedule/expression.ts';
import { instantsOfWallClock, formatInZone } from '#shared/schedule/zoned-time.ts';

const iso = (ms: number[]) => ms.map((t) => new Date(t).toISOString());
const fires = (expression: string, zone: string, after: string, count = 5) =>
  iso(nextFireTimes(parseScheduleExpression(expression), zone, Date.parse(after), count));

describe('cron fire times', () => {
  it('skips a daily time the spring-forward change removes (Berlin, 2026-03-29 02:30)', () => {
    expect(fires('cron(30 2 * * ? *)', 'Europe/Berlin', '2026-03-27T00:00:00Z', 4)).toEqual([
      '2026-03-27T01:30:00.000Z',
      '2026-03-28T01:30:00.000Z',
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('fires once in the hour the fall-back change repeats (Berlin, 2026-10-25)', () => {
    expect(fires('cron(30 2 * * ? *)', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
    // Every 20 minutes of the repeated 02:00 hour: three fires, not six.
    expect(fires('cron(0/20 2 * * ? *)', 'Europe/Berlin', '2026-10-24T12:00:00Z', 4)).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:20:00.000Z',
      '2026-10-25T00:40:00.000Z',
      '2026-10-26T01:00:00.000Z',
    ]);
  });

  it('keeps the wall-clock time across the change (New York, 09:00 before and after 2026-03-08)', () => {
    expect(fires('cron(0 9 * * ? *)', 'America/New_York', '2026-03-07T00:00:00Z', 2)).toEqual([
      '2026-03-07T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z',
    ]);
  });

  it('reads day-of-week as AWS does: 1-7 = SUN-SAT, names, L and #', () => {
    const weekdays = fires('cron(0 9 ? * 2-6 *)', 'UTC', '2026-12-04T10:00:00Z', 3);
    expect(weekdays).toEqual(fires('cron(0 9 ? * MON-FRI *)', 'UTC', '2026-12-04T10:00:00Z', 3));
    expect(weekdays[0]).toBe('2026-12-07T09:00:00.000Z'); // a Monday
    expect(fires('cron(0 9 ? * 1 *)', 'UTC', '2026-12-01T00:00:00Z', 1)).toEqual([
      '2026-12-06T09:00:00.000Z',
    ]); // Sunday
    expect(fires('cron(0 9 ? * 6L *)', 'UTC', '2026-12-01T00:00:00Z', 1)).toEqual([
      '2026-12-25T09:00:00.000Z',
    ]); // last Friday
    expect(fires('cron(0 9 ? * 2#1 *)', 'UTC', '2026-12-01T00:00:00Z', 1)).toEqual([
      '2026-12-07T09:00:00.000Z',
    ]); // 1st Monday
    expect(fires('cron(0 9 L * ? *)', 'UTC', '2027-02-01T00:00:00Z', 1)).toEqual([
      '2027-02-28T09:00:00.000Z',
    ]);
    expect(fires('cron(0 9 15W * ? *)', 'UTC', '2026-11-01T00:00:00Z', 1)).toEqual([
      '2026-11-16T09:00:00.000Z',
    ]);
  });

  it('honours the year field and AWS increments (0/15)', () => {
    expect(fires('cron(0/15 9 1 JAN ? 2027)', 'UTC', '2026-01-01T00:00:00Z', 6)).toEqual([
      '2027-01-01T09:00:00.000Z',
      '2027-01-01T09:15:00.000Z',
      '2027-01-01T09:30:00.000Z',
      '2027-01-01T09:45:00.000Z',
    ]);
  });
});

describe('rate and at', () => {
  it('fires a rate every period from its start, a day being 24 hours through DST', () => {
    const start = Date.parse('2026-03-28T12:00:00Z');
    const times = nextFireTimes(parseScheduleExpression('rate(1 day)'), 'Europe/Berlin', start, 2, start);
    expect(iso(times)).toEqual(['2026-03-29T12:00:00.000Z', '2026-03-30T12:00:00.000Z']);
  });

  it('fires an at expression once, at that wall-clock time of its zone', () => {
    expect(fires('at(2026-12-24T22:00:00)', 'Europe/Berlin', '2026-12-01T00:00:00Z')).toEqual([
      '2026-12-24T21:00:00.000Z',
    ]);
    expect(fires('at(2026-12-24T22:00:00)', 'Europe/Berlin', '2026-12-25T00:00:00Z')).toEqual([]);
  });

  it('finds no instant for a skipped time and two for a repeated one', () => {
    expect(instantsOfWallClock(Date.parse('2026-03-29T02:30:00Z'), 'Europe/Berlin')).toEqual([]);
    expect(iso(instantsOfWallClock(Date.parse('2026-10-25T02:30:00Z'), 'Europe/Berlin'))).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
    expect(formatInZone(Date.parse('2026-07-01T01:00:00Z'), 'Europe/Berlin')).toBe('2026-07-01 03:00 CEST');
  });
});

describe('refused expressions', () => {
  it.each([
    ['cron(0 3 * * *)', /six fields/],
    ['cron(0 3 * * * *)', /\? in exactly one/],
    ['cron(0 3 ? * ? *)', /\? in exactly one/],
    ['cron(60 3 * * ? *)', /minutes "60" is not 0-59/],
    ['cron(0 24 * * ? *)', /hours "24"/],
    ['cron(0 3 32 * ? *)', /day-of-month "32"/],
    ['cron(0 3 * 13 ? *)', /month "13"/],
    ['cron(0 3 ? * 0 *)', /day-of-week "0" is not 1-7/],
    ['cron(0 3 ? * MON#6 *)', /1-5/],
    ['cron(0 3 ? * MON/2 *)', /not allowed/],
    ['cron(0 3 * * ? 2200)', /year "2200"/],
    ['cron(0 3 * * ? 1969)', /year "1969"/],
    ['cron(0 ? * * ? *)', /only for day-of-month or day-of-week/],
    ['cron(0 3 1,,2 * ? *)', /empty list item/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(1 minutes)', /write "1 minute"/],
    ['rate(5 minute)', /write "5 minutes"/],
    ['rate(2 weeks)', /minute\(s\), hour\(s\) or day\(s\)/],
    ['rate(1.5 hours)', /positive whole number/],
    ['at(2026-02-30T00:00:00)', /not a date and time/],
    ['at(2026-12-24T22:00)', /yyyy-mm-ddThh:mm:ss/],
    ['at(2026-12-24T24:00:00)', /not a date and time/],
    ['every day at 3', /cron\(\.\.\.\), rate\(\.\.\.\) or at\(\.\.\.\)/],
    ['', /1-256 characters/],
  ])('%s', (text, why) => {
    expect(() => parseScheduleExpression(text)).toThrow(InvalidScheduleExpression);
    expect(() => parseScheduleExpression(text)).toThrow(why);
  });

  it('refuses time zones that are not IANA names', () => {
    expect(() => checkTimeZone('Europe/Berlin')).not.toThrow();
    expect(() => checkTimeZone('UTC')).not.toThrow();
    for (const zone of ['Mars/Olympus', '+01:00', 'Europe/Berlin; rm', '']) {
      expect(() => checkTimeZone(zone)).toThrow(/unknown time zone/);
    }
  });
});
