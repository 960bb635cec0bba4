/** `drover cancel <runId>`: its flags and help; the work is in actions/cancel.ts, loaded when it runs. */
import { type Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { wholeNumber } from '../option-parsers.ts';

const HELP = `
Examples:
  $ drover cancel 01JD3X7Q9M4T2R8K6P0W5N1B3C           stop it and wait for it to end
  $ drover cancel 01JD3X7Q9M4T2R8K6P0W5N1B3C --wait 0  do not wait

Hosts running the command are told to kill its process group; hosts that never acknowledged
are given up on. Both end as cancelled. Exit code 1 when the run had already finished.`;

export function register(program: Command, host: CommandHost): void {
  program
    .command('cancel')
    .description("stop a running run: hosts kill the command's process group and end as cancelled")
    .argument('<runId>', 'the run id (drover runs lists them)')
    .addOption(
      new Option('--wait <seconds>', 'wait this long for the run to end (0: do not wait)')
        .default(30)
        .argParser(wholeNumber('--wait')),
    )
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP)
    .action(async (runId: string, flags: { wait: number; json?: boolean }) => {
      const { cancelCommand } = await import('../actions/cancel.ts');
      host.done(await cancelCommand(runId, flags, host.context()));
    });
}
