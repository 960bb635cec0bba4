/**
 * `drover schedule`: runs on a schedule, unattended (EventBridge Scheduler; the local stack has
 * its own). The subcommands' work lives in cli/schedule/ and is loaded when one runs.
 */
import { Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { addFilterOptions } from '../common-options.ts';
import { addRunOptions, runOption } from '../run-options.ts';
import type { ScheduleFlags } from '../schedule/definition.ts';

const actions = () => import('../schedule/actions.ts');

const CREATE_HELP = `
When (one of):
  --cron '0 3 * * *'         five Unix fields, or EventBridge Scheduler's six: '0 3 ? * MON-FRI *'
                             (day-of-week 1-7 = SUN-SAT there; L, W and # as AWS documents them)
  --rate '15 minutes'        minute(s), hour(s) or day(s); the first run starts right away
  --at 2026-12-24T22:00      once, at that time of --timezone

Times are read in --timezone (an IANA name; default UTC), daylight saving included: a time the
clocks skip does not fire, a time they repeat fires once.

Examples:
  $ drover schedule create tick --rate '1 minute' 'date'
  $ drover schedule create nightly-upgrade --cron '0 3 * * *' --timezone Europe/Berlin \\
      -F role=web --batch 10% --max-errors 2 --batch-sleep 30 'apt-get -y upgrade'
  $ drover schedule create disk-check --cron '0 6 ? * MON *' -C db 'df -h /'
  $ drover schedule create tonight --at 2026-12-24T22:00 --timezone Europe/Berlin -I web-1 'systemctl restart app'

A fire while the schedule's previous run is still going is skipped (a "skipped" run and a
"Scheduled Run Skipped" event), unless --allow-overlap. A run that ends failed emits "Run Failed"
with the schedule's name on the stage's event bus. The runs: drover runs --schedule <name>.
`;

function addWhenOptions(cmd: Command): Command {
  const group = 'When:';
  return cmd
    .addOption(
      new Option('--cron <fields>', 'cron fields (5 Unix or 6 EventBridge Scheduler)').helpGroup(group),
    )
    .addOption(new Option('--rate <every>', "every n minutes|hours|days, e.g. '15 minutes'").helpGroup(group))
    .addOption(new Option('--at <time>', 'once, at yyyy-mm-ddThh:mm[:ss]').helpGroup(group))
    .addOption(
      new Option('--timezone <zone>', 'IANA time zone of the expression (default UTC)').helpGroup(group),
    )
    .addOption(
      new Option('--window <minutes>', 'flexible window: fire within this long (10m, 2h; off)').helpGroup(
        group,
      ),
    );
}

/** The run options a schedule holds (as `drover run` takes them), and whether fires may overlap. */
function addScheduledRunOptions(cmd: Command): Command {
  return addRunOptions(cmd, [
    runOption.timeout(),
    runOption.discoveryTimeout(),
    runOption.batch(),
    runOption.batchSleep(),
    runOption.maxErrors(),
    runOption.limit(),
    new Option('--allow-overlap', "start even while the schedule's previous run is still going"),
  ]);
}

const scheduleFlags = (flags: Record<string, unknown>): ScheduleFlags => ({
  ...flags,
  dt: flags.discoveryTimeout as number | undefined,
});

export function register(program: Command, host: CommandHost): void {
  const schedule = program
    .command('schedule')
    .description(
      'run a command on a schedule, unattended: create, list, show, pause, resume, update, delete, run-now',
    )
    .addHelpText(
      'after',
      `\nExamples:\n  $ drover schedule create tick --rate '1 minute' 'date'\n  $ drover schedule list\n  $ drover schedule show tick\n  $ drover runs --schedule tick\n  $ drover schedule delete tick\n`,
    );

  const create = schedule
    .command('create')
    .description('create a schedule that runs <command> on the matching hosts')
    .argument('<name>', 'schedule name: letters, digits, - _ . (at most 64)')
    .argument('<command>', 'shell command, run with bash -c on each host');
  addScheduledRunOptions(addFilterOptions(addWhenOptions(create)))
    .addHelpText('after', CREATE_HELP)
    .action(async (name: string, command: string, flags: Record<string, unknown>) => {
      host.done(await (await actions()).createSchedule(name, command, scheduleFlags(flags), host.context()));
    });

  const update = schedule
    .command('update')
    .description(
      'change a schedule: what is given replaces what it had (a filter flag replaces the whole filter)',
    )
    .argument('<name>', 'the schedule')
    .argument('[command]', 'new shell command (default: keep it)');
  addScheduledRunOptions(addFilterOptions(addWhenOptions(update)))
    .addHelpText(
      'after',
      `\nExamples:\n  $ drover schedule update nightly-upgrade --cron '30 2 * * *'\n  $ drover schedule update tick --rate '5 minutes' 'uptime'\n`,
    )
    .action(async (name: string, command: string | undefined, flags: Record<string, unknown>) => {
      host.done(await (await actions()).updateSchedule(name, command, scheduleFlags(flags), host.context()));
    });

  schedule
    .command('list')
    .description("the stage's schedules: state, when, next fire time, command, filter")
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .action(async (flags: { json?: boolean }) =>
      host.done(await (await actions()).listSchedules(flags, host.context())),
    );

  schedule
    .command('show')
    .description('a schedule: definition, next 5 fire times in its time zone, last runs and their outcome')
    .argument('<name>', 'the schedule')
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .action(async (name: string, flags: { json?: boolean }) =>
      host.done(await (await actions()).showSchedule(name, flags, host.context())),
    );

  schedule
    .command('pause')
    .description('stop firing (a run already going finishes)')
    .argument('<name>', 'the schedule')
    .action(async (name: string) =>
      host.done(await (await actions()).setScheduleState(name, 'DISABLED', host.context())),
    );

  schedule
    .command('resume')
    .description('fire again, from the next fire time on')
    .argument('<name>', 'the schedule')
    .action(async (name: string) =>
      host.done(await (await actions()).setScheduleState(name, 'ENABLED', host.context())),
    );

  schedule
    .command('delete')
    .description('delete a schedule (a run already going finishes)')
    .argument('<name>', 'the schedule')
    .action(async (name: string) => host.done(await (await actions()).deleteSchedule(name, host.context())));

  schedule
    .command('run-now')
    .description(
      "start the schedule's run now, as a fire would (skipped too if its previous run is going); prints the run id",
    )
    .argument('<name>', 'the schedule')
    .action(async (name: string) => host.done(await (await actions()).runScheduleNow(name, host.context())));
}
