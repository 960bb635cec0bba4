/** `drover run <command>`: its flags and help; the work is in actions/run.ts, loaded when it runs. */
import type { Command } from 'commander';
import type { CommandHost } from '../context.ts';
import { addFilterOptions } from '../common-options.ts';
import { addGroupOptions } from '../group-addressing.ts';
import { addProgressOptions, progressFlag } from '../output/options.ts';
import { addRunOptions, addRunOutputOptions, runOption } from '../run-options.ts';
import { EXIT_CODES, FILTERS } from '../help-text.ts';

const HELP = `${FILTERS}

Examples:
  $ drover run 'uptime'                                   every host
  $ drover run 'systemctl restart nginx' -F role=web -F env=production --batch 25% --max-errors 1
  $ drover run 'df -h /' -S 'role=db or class:postgresql' -t 30
  $ drover run 'hostname' -C nginx --json | jq -r '.hosts[].stdout'
  $ drover run 'apt-get -y upgrade' --limit 10% --limit-seed monday
  $ drover run 'false' --json --display failed | drover run 'journalctl -n 20' --nodes -
  $ drover run 'sleep 600' --async                        prints the run id; drover show <id> later
  $ drover run 'uptime' --jsonl | jq -c 'select(.type == "host") | {identity, exitCode}'
${EXIT_CODES}`;

export function register(program: Command, host: CommandHost): void {
  const run = program
    .command('run')
    .description('run a shell command on every host matching the filters and report each result')
    .argument('<command>', 'shell command, run with bash -c on each host');
  addRunOptions(addGroupOptions(addFilterOptions(run)), [
    runOption.nodes(),
    runOption.timeout(),
    runOption.discoveryTimeout(),
    runOption.ttl(),
    runOption.batch(),
    runOption.batchSleep(),
    runOption.maxErrors(),
    runOption.limit(),
    runOption.limitSeed(),
    runOption.async(),
  ]);
  addRunOutputOptions(run);
  addProgressOptions(run)
    .addHelpText('after', HELP)
    .action(async (command: string, flags: Record<string, unknown>) => {
      const { runCommand } = await import('../actions/run.ts');
      host.done(
        await runCommand(
          command,
          { ...flags, dt: flags.discoveryTimeout as number | undefined, progress: progressFlag(flags) },
          host.context(),
        ),
      );
    });
}
