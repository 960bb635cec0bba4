/** `drover run <command>`: its flags and help; the work is in actions/run.ts, loaded when it runs. */
import { type Command, Option } from 'commander';
import type { CommandHost } from '../context.ts';
import { hostCount, wholeNumber } from '../option-parsers.ts';
import { addFilterOptions } from '../common-options.ts';
import { addGroupOptions } from '../group-addressing.ts';
import { addProgressOptions, displayOption, progressFlag } from '../output/options.ts';
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

const RUN_GROUP = 'Run:';

/** The options of the Run: group: which hosts, how long, in which batches. */
function addRunOptions(run: Command): Command {
  return run
    .addOption(
      new Option(
        '--nodes <file>',
        'address these hosts: one identity per line, or drover JSON; - reads stdin',
      ).helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option('-t, --timeout <seconds>', 'kill the command after this long (default 60)')
        .argParser(wholeNumber('--timeout', 1))
        .helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option(
        '--dt, --discovery-timeout <seconds>',
        'wait this long for hosts to acknowledge (default 10)',
      )
        .argParser(wholeNumber('--discovery-timeout', 1))
        .helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option(
        '--ttl <seconds>',
        'hosts refuse the request after this long; may only shorten the default, discovery timeout + 1',
      )
        .argParser(wholeNumber('--ttl', 1))
        .helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option(
        '--batch <n|n%>',
        'run on this many hosts (or this share of them) at a time; at most 800 batches',
      )
        .argParser(hostCount('--batch', 1))
        .helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option('--batch-sleep <seconds>', 'pause between batches')
        .argParser(wholeNumber('--batch-sleep'))
        .helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option('--max-errors <n|n%>', 'start no further batch once more hosts than this failed')
        .argParser(hostCount('--max-errors'))
        .helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option('--limit <n|n%>', 'run on a random subset of the matching hosts')
        .argParser(hostCount('--limit', 1))
        .helpGroup(RUN_GROUP),
    )
    .addOption(
      new Option('--limit-seed <seed>', 'seed of the --limit subset, so it can be repeated').helpGroup(
        RUN_GROUP,
      ),
    )
    .addOption(
      new Option('--async', 'print the run id and exit; drover show <runId> later').helpGroup(RUN_GROUP),
    );
}

export function register(program: Command, host: CommandHost): void {
  const run = program
    .command('run')
    .description('run a shell command on every host matching the filters and report each result')
    .argument('<command>', 'shell command, run with bash -c on each host');
  addRunOptions(addGroupOptions(addFilterOptions(run)))
    .addOption(
      new Option('-j, --json', 'one JSON document with every host and the summary (only data on stdout)')
        .conflicts('jsonl')
        .helpGroup('Output:'),
    )
    .addOption(
      new Option('--jsonl', 'one JSON line per host as it lands, then the summary line').helpGroup('Output:'),
    )
    .addOption(displayOption('Output:'));
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
