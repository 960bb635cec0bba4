/** `drover show <runId>`: its flags and help; the work is in actions/show.ts, loaded when it runs. */
import { type Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { addProgressOptions, displayOption, progressFlag } from '../output/options.ts';

const HELP = `
Examples:
  $ drover show 01JD3X7Q9M4T2R8K6P0W5N1B3C              as drover run printed it
  $ drover show 01JD3X7Q9M4T2R8K6P0W5N1B3C --display failed
  $ drover show 01JD3X7Q9M4T2R8K6P0W5N1B3C --json | jq '.summary'

A run still going is followed to its end (Ctrl-C stops watching, not the run).
Exits with the run's exit code.`;

export function register(program: Command, host: CommandHost): void {
  const show = program
    .command('show')
    .description('print a past run exactly as drover run printed it (or follow it if still running)')
    .argument('<runId>', 'the run id (drover runs lists them)')
    .addOption(new Option('-j, --json', 'one JSON document, as drover run --json').conflicts('jsonl'))
    .option('--jsonl', 'JSON lines, as drover run --jsonl')
    .addOption(displayOption());
  addProgressOptions(show)
    .addHelpText('after', HELP)
    .action(async (runId: string, flags: Record<string, unknown>) => {
      const { showCommand } = await import('../actions/show.ts');
      host.done(await showCommand(runId, { ...flags, progress: progressFlag(flags) }, host.context()));
    });
}
