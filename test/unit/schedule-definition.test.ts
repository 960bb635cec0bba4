/**
 * `drover schedule create` flags → a schedule definition: every bad input is a clear error before
 * anything is created, checked by the code `drover run` and Plan use.
 */
import { describe, expect, it } from 'vitest';
import {
  checkScheduleName,
  checkWhen,
  expressionOf,
  rollingWarning,
  scheduleRunInput,
  windowMinutes,
} from '#cli/schedule/definition.ts';
import { CliError } from '#cli/errors.ts';
import { parseScheduleRunInput } from '#shared/schedule/run-input.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');

describe('when', () => {
  it('turns five Unix cron fields into EventBridge Scheduler six, day-of-week renumbered', () => {
    expect(expressionOf({ cron: '0 3 * * *' })).toBe('cron(0 3 * * ? *)');
    expect(expressionOf({ cron: '0 3 * * 1-5' })).toBe('cron(0 3 ? * 2-6 *)');
    expect(expressionOf({ cron: '0 3 * * 0,6' })).toBe('cron(0 3 ? * 1,7 *)');
    expect(expressionOf({ cron: '0 3 1 * *' })).toBe('cron(0 3 1 * ? *)');
    expect(expressionOf({ cron: '0 3 ? * MON-FRI *' })).toBe('cron(0 3 ? * MON-FRI *)');
    expect(expressionOf({ cron: 'cron(0 3 * * ? *)' })).toBe('cron(0 3 * * ? *)');
    expect(() => expressionOf({ cron: '0 3 1 * 1' })).toThrow(/day of the month and a day of the week/);
  });

  it('takes --rate and --at in their short forms', () => {
    expect(expressionOf({ rate: '15 minutes' })).toBe('rate(15 minutes)');
    expect(expressionOf({ at: '2026-12-24T22:00' })).toBe('at(2026-12-24T22:00:00)');
    expect(expressionOf({ at: '2026-12-24T22:00:30' })).toBe('at(2026-12-24T22:00:30)');
  });

  it('wants exactly one of --cron, --rate, --at', () => {
    expect(() => expressionOf({})).toThrow(/say when/);
    expect(() => expressionOf({ cron: '0 3 * * *', at: '2026-12-24T22:00' })).toThrow(/not --cron and --at/);
  });

  it('refuses a past --at, a time the clocks skip, a bad expression and an unknown zone', () => {
    expect(() => checkWhen('at(2026-11-30T12:00:00)', 'UTC', NOW)).toThrow(/is in the past/);
    expect(() => checkWhen('at(2027-03-28T02:30:00)', 'Europe/Berlin', NOW)).toThrow(
      /does not exist in Europe\/Berlin/,
    );
    expect(() => checkWhen('cron(0 3 * * * *)', 'UTC', NOW)).toThrow(CliError);
    expect(() => checkWhen('rate(5 minutes)', 'Atlantis/Capital', NOW)).toThrow(
      /unknown time zone "Atlantis\/Capital"/,
    );
    expect(checkWhen('at(2026-12-24T22:00:00)', 'Europe/Berlin', NOW).kind).toBe('at');
  });

  it('reads --window as 1 minute to 24 hours', () => {
    expect(windowMinutes('10m')).toBe(10);
    expect(windowMinutes('2h')).toBe(120);
    expect(windowMinutes('off')).toBeUndefined();
    for (const bad of ['0m', '25h', '1441', 'soon']) expect(() => windowMinutes(bad)).toThrow(/--window/);
  });
});

describe('the run a schedule starts', () => {
  it('is the run request without a run id, naming its schedule, checked by the run schema', () => {
    const input = scheduleRunInput(
      'nightly',
      'apt-get -y upgrade',
      { wf: ['role=web'], batch: '10%', maxErrors: 2 },
      'alice@host',
    );
    expect(input).not.toHaveProperty('runId');
    expect(input).toMatchObject({
      command: { shell: 'apt-get -y upgrade' },
      filter: { fact: ['role=web'] },
      options: { batchSize: '10%', maxErrors: 2 },
      schedule: { name: 'nightly', allowOverlap: false },
      caller: 'schedule:nightly (alice@host)',
    });
    expect(parseScheduleRunInput(JSON.stringify(input))).toEqual(input);
  });

  it('refuses a filter that does not parse, and options the run would refuse', () => {
    expect(() => scheduleRunInput('n', 'true', { select: 'role=web and (' }, 'a')).toThrow(/column/);
    expect(() => scheduleRunInput('n', 'true', { batchSleep: 4000 }, 'a')).toThrow(/batchSleepSec/);
    expect(() => scheduleRunInput('n', 'true', { timeout: 100_000 }, 'a')).toThrow(/timeoutSec/);
    expect(() => scheduleRunInput('n', '  ', {}, 'a')).toThrow(/command is empty/);
  });

  it('warns when --batch comes without --max-errors', () => {
    expect(rollingWarning(scheduleRunInput('n', 'true', { batch: 2 }, 'a'))).toMatch(
      /roll through the whole fleet/,
    );
    expect(rollingWarning(scheduleRunInput('n', 'true', { batch: 2, maxErrors: 1 }, 'a'))).toBeUndefined();
    expect(rollingWarning(scheduleRunInput('n', 'true', {}, 'a'))).toBeUndefined();
  });

  it('refuses an input with a run id, or without its schedule', () => {
    expect(() =>
      parseScheduleRunInput({ runId: '01M8SYMNJ7W7T36MQFPPR2NZ4W', command: { shell: 'x' } }),
    ).toThrow(/without a runId/);
    expect(() => parseScheduleRunInput({ command: { shell: 'x' } })).toThrow(/names its schedule/);
    expect(() => parseScheduleRunInput('{')).toThrow(/not JSON/);
  });

  it('names schedules as EventBridge Scheduler allows', () => {
    expect(() => checkScheduleName('nightly-upgrade.v2_web')).not.toThrow();
    expect(() => checkScheduleName('bad name')).toThrow(/only letters, digits/);
    expect(() => checkScheduleName('x'.repeat(65))).toThrow(/1-64 characters/);
  });
});
