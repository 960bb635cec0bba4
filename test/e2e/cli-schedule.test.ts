/**
 * `drover schedule` end to end: the CLI as a child process, real agent processes, the local stack
 * with its scheduler on the real clock. A newcomer's `schedule create tick --rate '1 minute'`
 * makes a run at once, visible in `drover runs --schedule tick`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runsDocumentSchema, scheduleDocumentSchema, schedulesDocumentSchema } from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';

let t: TestStack;
const drover = (...args: string[]) => droverCli(t.home, args);

beforeAll(async () => {
  t = await startTestStack();
  await startFleet(t, [
    { identity: 'sched-web-1', facts: { role: 'web' }, classes: [] },
    { identity: 'sched-db-1', facts: { role: 'db' }, classes: [] },
  ]);
}, 60_000);

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('drover schedule', () => {
  it('creates a rate schedule whose run shows in drover runs --schedule, then deletes it', async () => {
    const created = await drover(
      'schedule',
      'create',
      'tick',
      '--rate',
      '1 minute',
      '-F',
      'role=web',
      'echo tick',
    );
    expect(created.stderr).toContain(
      'Created schedule tick on stage local: rate(1 minute) UTC; first run now',
    );
    expect(created.code).toBe(0);

    const run = await eventually(
      async () => {
        const listed = await drover('runs', '--schedule', 'tick', '--json');
        const runs = listed.code === 0 ? runsDocumentSchema.parse(JSON.parse(listed.stdout)).runs : [];
        return runs.find((r) => r.status === 'succeeded');
      },
      30_000,
      'a succeeded run of schedule tick',
    );
    expect(run).toMatchObject({
      schedule: 'tick',
      command: { shell: 'echo tick' },
      expected: 1,
      summary: { succeeded: 1 },
    });

    const shown = await drover('schedule', 'show', 'tick');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('When:       rate(1 minute) UTC');
    expect(shown.stdout).toContain('Next fire times (UTC):');
    expect(shown.stdout).toMatch(new RegExp(`${run.runId} .* succeeded exit 0, 1/1 ok`));
    expect(shown.stdout).toContain('"Run Failed"');

    const shownJson = scheduleDocumentSchema.parse(
      JSON.parse((await drover('schedule', 'show', 'tick', '--json')).stdout),
    );
    expect(shownJson).toMatchObject({
      name: 'tick',
      state: 'enabled',
      expression: 'rate(1 minute)',
      stage: 'local',
    });
    expect(shownJson.nextFireTimes).toHaveLength(5);
    expect(shownJson.runs.map((r) => r.runId)).toContain(run.runId);
    const listedJson = schedulesDocumentSchema.parse(
      JSON.parse((await drover('schedule', 'list', '-j')).stdout),
    );
    expect(listedJson.schedules.map((s) => s.name)).toEqual(['tick']);

    const listed = await drover('schedule', 'list');
    expect(listed.stdout).toMatch(/^tick\s+enabled\s+rate\(1 minute\) UTC/m);

    const now = await drover('schedule', 'run-now', 'tick');
    expect(now.code).toBe(0);
    const followed = await drover('show', now.stdout.trim());
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('sched-web-1');

    const paused = await drover('schedule', 'pause', 'tick');
    expect(paused.stderr).toContain('Paused schedule tick');
    expect((await drover('schedule', 'list')).stdout).toMatch(/^tick\s+paused\s+rate\(1 minute\) UTC\s+-/m);
    const updated = await drover(
      'schedule',
      'update',
      'tick',
      '--cron',
      '0 6 * * 1',
      '--timezone',
      'Europe/Berlin',
      'uptime',
    );
    expect(updated.stderr).toContain('Updated schedule tick: cron(0 6 ? * 2 *) Europe/Berlin (paused).');
    const resumed = await drover('schedule', 'resume', 'tick');
    expect(resumed.stderr).toContain('Resumed schedule tick: cron(0 6 ? * 2 *) Europe/Berlin.');
    const after = await drover('schedule', 'show', 'tick');
    expect(after.stdout).toContain('Command:    uptime');
    expect(after.stdout).toContain('Filter:     role=web'); // kept: no filter flag given
    expect(after.stdout).toMatch(/Next fire times \(Europe\/Berlin\):\n {2}\d{4}-\d{2}-\d{2} 06:00 CES?T/);

    expect((await drover('schedule', 'delete', 'tick')).code).toBe(0);
    const none = await drover('schedule', 'list');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('No schedules on stage local');
  }, 90_000);

  it('refuses bad input with a clear error and creates nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['--cron', '0 3 * * * *'], /give \? in exactly one of day-of-month and day-of-week/],
      [['--at', '2020-01-01T00:00'], /is in the past/],
      [['--rate', '5 minutes', '--timezone', 'Nowhere/Land'], /unknown time zone "Nowhere\/Land"/],
      [['--rate', '5 minutes', '-S', 'role=web and ('], /column/],
      [['--rate', '5 minutes', '--batch-sleep', '9999'], /batchSleepSec/],
    ];
    for (const [flags, message] of cases) {
      const out = await drover('schedule', 'create', 'broken', ...flags, 'true');
      expect(out.code, flags.join(' ')).toBe(4);
      expect(out.stderr, flags.join(' ')).toMatch(message);
    }
    const bad = await drover('schedule', 'create', 'bad name', '--rate', '5 minutes', 'true');
    expect(bad.stderr).toContain('"bad name" cannot name a schedule');
    expect((await drover('schedule', 'show', 'broken')).stderr).toContain(
      'no schedule "broken" on stage local',
    );
  }, 60_000);

  it('warns when --batch comes without --max-errors', async () => {
    const out = await drover('schedule', 'create', 'rolling', '--cron', '0 3 * * *', '--batch', '1', 'true');
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('warning: --batch without --max-errors');
    expect((await drover('schedule', 'delete', 'rolling')).code).toBe(0);
  });
});
