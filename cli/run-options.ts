/**
 * The run options several commands take (`run`, `schedule create|update`, `fleet deploy`): one
 * definition of each flag, its parser and its help, so the commands cannot drift apart.
 */
import { type Command, Option } from 'commander';
import { hostCount, wholeNumber } from './option-parsers.ts';
import { displayOption } from './output/options.ts';

const RUN_GROUP = 'Run:';
const OUTPUT_GROUP = 'Output:';

const defaultNote = (value: string | undefined) => (value === undefined ? '' : ` (default ${value})`);

/** Each run option, built anew for every command that takes it (commander owns an Option). */
export const runOption = {
  nodes: () =>
    new Option('--nodes <file>', 'address these hosts: one identity per line, or drover JSON; - reads stdin'),
  timeout: (what = 'the command', byDefault = 60) =>
    new Option('-t, --timeout <seconds>', `kill ${what} after this long (default ${byDefault})`).argParser(
      wholeNumber('--timeout', 1),
    ),
  discoveryTimeout: () =>
    new Option(
      '--dt, --discovery-timeout <seconds>',
      'wait this long for hosts to acknowledge (default 10)',
    ).argParser(wholeNumber('--discovery-timeout', 1)),
  ttl: () =>
    new Option(
      '--ttl <seconds>',
      'hosts refuse the request after this long; may only shorten the default, discovery timeout + 1',
    ).argParser(wholeNumber('--ttl', 1)),
  batch: (byDefault?: string) =>
    new Option(
      '--batch <n|n%>',
      `run on this many hosts (or this share of them) at a time; at most 650 batches of up to ~10,000 hosts${defaultNote(byDefault)}`,
    ).argParser(hostCount('--batch', 1)),
  batchSleep: () =>
    new Option('--batch-sleep <seconds>', 'pause between batches').argParser(wholeNumber('--batch-sleep')),
  maxErrors: (byDefault?: string) =>
    new Option(
      '--max-errors <n|n%>',
      `start no further batch once more hosts than this failed${defaultNote(byDefault)}`,
    ).argParser(hostCount('--max-errors')),
  limit: () =>
    new Option('--limit <n|n%>', 'run on a random subset of the matching hosts').argParser(
      hostCount('--limit', 1),
    ),
  limitSeed: () => new Option('--limit-seed <seed>', 'seed of the --limit subset, so it can be repeated'),
  async: () => new Option('--async', 'print the run id and exit; drover show <runId> later'),
};

/** Adds `options` to `cmd` under the Run: heading of its help. */
export function addRunOptions(cmd: Command, options: readonly Option[]): Command {
  for (const option of options) cmd.addOption(option.helpGroup(RUN_GROUP));
  return cmd;
}

/** `--json`, `--jsonl` and `--display`: how a command that follows a run prints it. */
export function addRunOutputOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-j, --json', 'one JSON document with every host and the summary (only data on stdout)')
        .conflicts('jsonl')
        .helpGroup(OUTPUT_GROUP),
    )
    .addOption(
      new Option('--jsonl', 'one JSON line per host as it lands, then the summary line').helpGroup(
        OUTPUT_GROUP,
      ),
    )
    .addOption(displayOption(OUTPUT_GROUP));
}
