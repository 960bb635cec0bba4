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

Every assumption and price is printed with the flag that overrides it. No AWS call is made.`;

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
