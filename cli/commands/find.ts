/** `drover find`: its flags and help; the work is in actions/find.ts, loaded when it runs. */
import type { Command } from 'commander';
import type { CommandHost } from '../context.ts';
import { addFilterOptions } from '../common-options.ts';
import { FILTERS } from '../help-text.ts';

const HELP = `${FILTERS}

Examples:
  $ drover find -F role=web                      one host per line, with its last heartbeat
  $ drover find -C nginx | drover run 'nginx -t' --nodes -
  $ drover find --include-stale --json | jq -r '.hosts[] | select(.stale) | .identity'

Nothing is sent to the hosts: this reads the facts table. Exit code 1 when nothing matches.`;

export function register(program: Command, host: CommandHost): void {
  const find = program
    .command('find')
    .description(
      'list the hosts matching the filters, from the facts table (discovery only: nothing is sent)',
    );
  addFilterOptions(find)
    .option('--include-stale', 'also hosts silent for more than 3 heartbeats (marked stale)')
    .option('--all', 'also hosts no longer in service (lost, stopped, terminated), listed apart')
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP)
    .action(async (flags: Record<string, unknown>) => {
      const { findCommand } = await import('../actions/find.ts');
      host.done(await findCommand(flags, host.context()));
    });
}
