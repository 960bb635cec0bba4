/** `drover ping`: its flags and help; the work is in actions/ping.ts, loaded when it runs. */
import { type Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { wholeNumber } from '../option-parsers.ts';
import { addFilterOptions } from '../common-options.ts';
import { addProgressOptions, progressFlag } from '../output/options.ts';
import { FILTERS } from '../help-text.ts';

const HELP = `${FILTERS}

Examples:
  $ drover ping                        every host, with its round-trip time
  $ drover ping -F role=web --dt 2     give hosts 2 s to answer
  $ drover ping --json | jq '.stats'

Round-trip time: from the dispatch of the request to the host's answer being recorded.
Exit codes: 0 every host answered, 1 nothing matched, 3 some did not answer.`;

export function register(program: Command, host: CommandHost): void {
  const ping = program
    .command('ping')
    .description('ask the matching hosts to answer, and show how fast each did');
  addFilterOptions(ping)
    .addOption(
      new Option(
        '--dt, --discovery-timeout <seconds>',
        'wait this long for hosts to answer (default 10)',
      ).argParser(wholeNumber('--discovery-timeout', 1)),
    )
    .addOption(new Option('-j, --json', 'one JSON document (only data on stdout)').helpGroup('Output:'));
  addProgressOptions(ping)
    .addHelpText('after', HELP)
    .action(async (flags: Record<string, unknown>) => {
      const { pingCommand } = await import('../actions/ping.ts');
      host.done(
        await pingCommand(
          { ...flags, dt: flags.discoveryTimeout as number | undefined, progress: progressFlag(flags) },
          host.context(),
        ),
      );
    });
}
