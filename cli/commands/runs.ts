/** `drover runs`: its flags and help; the work is in actions/runs.ts, loaded when it runs. */
import { type Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { wholeNumber } from '../option-parsers.ts';
import { RUN_STATUSES } from '../output/run-statuses.ts';

const HELP = `
Examples:
  $ drover runs                        the 20 most recent runs
  $ drover runs --limit 50 --caller alice@bastion --status failed
  $ drover runs --json | jq -r '.runs[0].runId'
  $ drover runs --limit 500 --total-by caller   estimated AWS cost of the last 500 runs, per caller
  $ drover runs --total-by day --json | jq '.totals'

Costs are estimates from each run's hosts, batches and duration with the model of drover cost.`;

export function register(program: Command, host: CommandHost): void {
  program
    .command('runs')
    .description('recent runs, newest first: id, when, caller, status, counts, command, filter')
    .addOption(new Option('--limit <n>', 'how many runs').default(20).argParser(wholeNumber('--limit', 1)))
    .option('--caller <who>', 'only runs started by this caller (user@host)')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('--schedule <name>', 'only runs started by this schedule (drover schedule list)')
    .addOption(
      new Option('--total-by <group>', "sum the listed runs' estimated AWS cost per group").choices([
        'caller',
        'schedule',
        'day',
      ]),
    )
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP)
    .action(
      async (flags: {
        limit: number;
        caller?: string;
        status?: string;
        schedule?: string;
        totalBy?: 'caller' | 'schedule' | 'day';
        json?: boolean;
      }) => {
        const { runsCommand } = await import('../actions/runs.ts');
        host.done(await runsCommand(flags, host.context()));
      },
    );
}
