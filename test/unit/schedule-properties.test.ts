/**
 * Properties of schedule evaluation over generated expressions, zones and clocks: fire times only
 * ever move forward, each reads on the zone's wall clock as the expression says, a daily time is
 * never more than one night late (a DST gap), and the local scheduler, however its clock is moved,
 * fires exactly the times the expression lists.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nextFireTimes, parseScheduleExpression } from '#shared/schedule/expression.ts';
import { wallClockAt } from '#shared/schedule/zoned-time.ts';
import { LocalScheduler } from '#local/scheduler.ts';

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'America/Santiago',
];
const FROM = Date.parse('2026-01-01T00:00:00Z');
const TO = Date.parse('2028-01-01T00:00:00Z');
const DAY = 86_400_000;

describe('cron fire times', () => {
  it('move forward, read as the expression on the wall clock, and miss at most one night', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 23 }),
        fc.constantFrom(...ZONES),
        fc.integer({ min: FROM, max: TO }),
        (minute, hour, zone, after) => {
          const times = nextFireTimes(
            parseScheduleExpression(`cron(${minute} ${hour} * * ? *)`),
            zone,
            after,
            8,
          );
          expect(times).toHaveLength(8);
          expect(times[0]!).toBeGreaterThan(after);
          for (const [i, t] of times.entries()) {
            const wall = new Date(wallClockAt(t, zone));
            expect([wall.getUTCHours(), wall.getUTCMinutes()]).toEqual([hour, minute]);
            if (i > 0) {
              expect(t).toBeGreaterThan(times[i - 1]!);
              expect(t - times[i - 1]!).toBeLessThanOrEqual(2 * DAY + 3_600_000);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the local scheduler', () => {
  it('fires exactly the listed times, whatever steps its clock takes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'cron(*/20 1-3 * * ? *)',
          'cron(30 2 * * ? *)',
          'rate(7 minutes)',
          'cron(0 12 ? * MON-FRI *)',
        ),
        fc.constantFrom(...ZONES),
        fc.array(fc.integer({ min: 1, max: 3 * 3_600_000 }), { minLength: 1, maxLength: 20 }),
        (expression, zone, steps) => {
          const start = Date.parse('2026-10-24T00:00:00Z');
          let now = start;
          const machine = 'arn:aws:states:us-east-1:000000000000:stateMachine:drover-local-run';
          const role = 'arn:aws:iam::000000000000:role/drover-local-scheduler';
          const scheduler = new LocalScheduler({
            region: 'us-east-1',
            account: '000000000000',
            groups: [],
            rolePolicies: { [role]: [machine] },
            startExecution: () => undefined,
            now: () => now,
          });
          scheduler.create({
            Name: 'p',
            ScheduleExpression: expression,
            ScheduleExpressionTimezone: zone,
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: machine, RoleArn: role, Input: '{}' },
          });
          const fired = scheduler.tick().map((f) => f.scheduledTime);
          for (const step of steps) {
            now += step;
            fired.push(...scheduler.tick().map((f) => f.scheduledTime));
          }
          const parsed = parseScheduleExpression(expression);
          const expected = nextFireTimes(parsed, zone, start - 1, 600, start).filter((t) => t <= now);
          expect(fired).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });
});
