import { describe, expect, it } from 'vitest';
import { buildRunRequest, filterSpecFrom } from '#cli/run-request.ts';
import { wholeNumber } from '#cli/option-parsers.ts';
import { CliError } from '#cli/errors.ts';

const RUN_ID = '01HZY8J9K2M3N4P5Q6R7S8T9VW';

function cliError(action: () => unknown): CliError {
  try {
    action();
  } catch (error: unknown) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('filterSpecFrom', () => {
  it('maps -W, -F, -C, -I and -S to the filter lists', () => {
    // Prepare
    const flags = {
      with: ['nginx', 'role=web'],
      wf: ['env=prod', 'cpus>=4'],
      wc: ['role::web'],
      wi: ['/^web-/'],
      select: 'az=us-east-1a or az=us-east-1b',
    };

    // Act
    const spec = filterSpecFrom(flags);

    // Assess
    expect(spec).toEqual({
      with: ['nginx', 'role=web'],
      fact: ['env=prod', 'cpus>=4'],
      class: ['role::web'],
      identity: ['/^web-/'],
      select: 'az=us-east-1a or az=us-east-1b',
    });
  });

  it('gives empty lists and no select when no filter flag is set', () => {
    expect(filterSpecFrom({})).toEqual({ with: [], fact: [], class: [], identity: [] });
  });

  it('refuses a -S that does not parse with exit code 4 and a caret under the column', () => {
    const error = cliError(() => filterSpecFrom({ select: 'role=web and (' }));

    expect(error.exitCode).toBe(4);
    expect(error.message).toBe(
      '-S: expected a fact, class or "(" at column 15, found end of input\n' +
        '  role=web and (\n' +
        '                ^',
    );
  });

  it('refuses a -F without a value, pointing at the end of the fact', () => {
    const error = cliError(() => filterSpecFrom({ wf: ['env=prod', 'role='] }));

    expect(error.exitCode).toBe(4);
    expect(error.message).toBe(
      '-F: expected a value after "=" at column 6, found end of input\n  role=\n       ^',
    );
  });

  it('keeps the filter syntax error as the cause', () => {
    const error = cliError(() => filterSpecFrom({ wi: ['/[/'] }));

    expect((error.cause as Error).name).toBe('FilterSyntaxError');
  });
});

describe('wholeNumber', () => {
  it('parses a whole number', () => {
    expect(wholeNumber('--timeout')('30')).toBe(30);
    expect(wholeNumber('--batch-sleep')('0')).toBe(0);
  });

  it('accepts the minimum itself', () => {
    expect(wholeNumber('--limit', 1)('1')).toBe(1);
  });

  it.each(['abc', '1.5', '-1', '', '1e3', '0x10', '99999999999999999999'])('rejects "%s"', (value) => {
    const error = cliError(() => wholeNumber('--timeout')(value));

    expect(error.message).toBe(`--timeout must be a whole number, got "${value}"`);
    expect(error.exitCode).toBe(4);
  });

  it('rejects a number below the minimum, saying what the minimum is', () => {
    const error = cliError(() => wholeNumber('--limit', 1)('0'));

    expect(error.message).toBe('--limit must be a whole number of at least 1, got "0"');
  });
});

describe('buildRunRequest', () => {
  it('maps every run flag to its option', () => {
    // Prepare
    const flags = { timeout: 30, dt: 5, ttl: 4, batch: 10, batchSleep: 2, maxErrors: 3, limit: 50 };

    // Act
    const request = buildRunRequest(RUN_ID, 'uptime', flags, 'alice');

    // Assess
    expect(request.options).toEqual({
      timeoutSec: 30,
      discoveryTimeoutSec: 5,
      ttlSec: 4,
      batchSize: 10,
      batchSleepSec: 2,
      maxErrors: 3,
      limit: 50,
      staleAfterHeartbeats: 3,
    });
  });

  it('builds an exec of a shell command with the filter and the caller', () => {
    const request = buildRunRequest(RUN_ID, 'systemctl restart nginx', { wf: ['role=web'] }, 'alice');

    expect(request).toMatchObject({
      runId: RUN_ID,
      action: 'exec',
      command: { shell: 'systemctl restart nginx' },
      filter: { with: [], fact: ['role=web'], class: [], identity: [] },
      caller: 'alice',
    });
  });

  it('leaves unset flags to the defaults', () => {
    const request = buildRunRequest(RUN_ID, 'uptime', {}, 'alice');

    expect(request.options).toEqual({
      timeoutSec: 60,
      discoveryTimeoutSec: 10,
      batchSleepSec: 0,
      staleAfterHeartbeats: 3,
    });
  });

  it('refuses a --ttl longer than the acknowledgement window: a host must not run after "no response"', () => {
    const error = cliError(() => buildRunRequest(RUN_ID, 'uptime', { dt: 5, ttl: 120 }, 'alice'));

    expect(error.message).toMatch(
      /^invalid request: options\.ttlSec: ttl 120 s is longer than the acknowledgement window \(discovery timeout 5 s \+ 1 s\).*use at most 6/,
    );
    expect(error.exitCode).toBe(4);
    expect(buildRunRequest(RUN_ID, 'uptime', { dt: 5, ttl: 6 }, 'alice').options.ttlSec).toBe(6);
  });

  it('refuses an option out of range, naming it', () => {
    const error = cliError(() => buildRunRequest(RUN_ID, 'uptime', { timeout: 0 }, 'alice'));

    expect(error.message).toMatch(/^invalid request: options\.timeoutSec: /);
    expect(error.exitCode).toBe(4);
  });

  it('refuses an empty command', () => {
    expect(cliError(() => buildRunRequest(RUN_ID, '', {}, 'alice')).message).toMatch(
      /^invalid request: command/,
    );
  });

  it('refuses a bad filter before building anything else', () => {
    const error = cliError(() => buildRunRequest('not-a-ulid', 'uptime', { select: 'and' }, 'alice'));

    expect(error.message).toMatch(/^-S: /);
  });
});
