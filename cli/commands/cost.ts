/**
 * `drover cost`: one flag per assumption and price of the cost model (cost/model.ts); the
 * estimate is in actions/cost.ts, loaded when it runs.
 */
import { type Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { amount } from '../option-parsers.ts';
import { ASSUMPTIONS, PRICES } from '../cost/model.ts';

const HELP = `
Examples:
  $ drover cost                                        100 hosts, 50 runs a day
  $ drover cost --hosts 2000 --runs-per-day 200 --hosts-per-run 50
  $ drover cost --hosts 500 --heartbeat-seconds 300 --price-sqs-per-million 0.5 --json
  $ drover cost --hosts 50000 --replies-per-ingest 10 --ingest-min-pollers 20 --runs-warm-writes 40000

Every assumption and price is printed with the flag that overrides it. No AWS call is made.

A large fleet: --ingest-min-pollers, --ingest-max-pollers, --runs-warm-reads, --runs-warm-writes,
--nodes-warm-reads and --nodes-warm-writes stand for the stage params of the same names (off at 0,
docs/deploy.md "Large fleets"). Provisioned pollers add two Lambda rows (the minimum, billed every
hour; and each run's scaling, what its replies need at 1 MB/s a poller, billed a minute); warm
throughput is paid once when deployed, printed apart from the monthly total. The "answer sets"
row is the runs table's per-dispatch-group tally: each ingest call rewrites its group's tally item,
which grows to 2 × 500 × --tally-member-bytes (a host counts as its slot in the group, ~3 bytes), and
is billed its whole size each time.`;

export function register(program: Command, host: CommandHost): void {
  const cost = program
    .command('cost')
    .description('estimate the monthly AWS cost of a stage for a fleet size and usage (no AWS call)');
  for (const parameter of [...ASSUMPTIONS, ...PRICES]) {
    const option = new Option(
      `${parameter.flag} <${parameter.unit === 'USD' ? 'usd' : 'n'}>`,
      parameter.meaning,
    )
      .argParser(amount(parameter.flag))
      .helpGroup(parameter.flag.startsWith('--price-') ? 'Prices:' : 'Assumptions:');
    cost.addOption(option);
  }
  cost
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP)
    .action(async (flags: Record<string, number | boolean>) => {
      const { costCommand } = await import('../actions/cost.ts');
      const byKey: Record<string, number> = {};
      for (const parameter of [...ASSUMPTIONS, ...PRICES]) {
        const attribute = new Option(parameter.flag).attributeName();
        if (typeof flags[attribute] === 'number') byKey[parameter.key] = flags[attribute];
      }
      host.done(costCommand({ ...byKey, json: flags.json === true }, host.context()));
    });
}
