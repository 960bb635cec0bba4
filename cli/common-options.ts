/** Options several commands share: the filter flags (MCollective's names) and the progress bar. */
import { type Command, Option } from 'commander';

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function addFilterOptions(cmd: Command): Command {
  const group = 'Filters:';
  return cmd
    .addOption(
      new Option('-W, --with <filter>', 'fact comparison or class/fact name (repeatable)')
        .argParser(collect)
        .helpGroup(group),
    )
    .addOption(
      new Option('-F, --wf <fact>', 'fact filter, e.g. role=web, cpus>=4 (repeatable)')
        .argParser(collect)
        .helpGroup(group),
    )
    .addOption(
      new Option('-C, --wc <class>', 'class filter, exact or /regex/ (repeatable)')
        .argParser(collect)
        .helpGroup(group),
    )
    .addOption(
      new Option('-I, --wi <identity>', 'identity, exact or /regex/ (repeatable: any of them)')
        .argParser(collect)
        .helpGroup(group),
    )
    .addOption(
      new Option('-S, --select <expression>', 'compound filter with and/or/not/( )').helpGroup(group),
    );
}

export function addProgressOptions(cmd: Command): Command {
  const group = 'Output:';
  return cmd
    .addOption(
      new Option('--progress', 'draw the progress bar even when stderr is not a terminal').helpGroup(group),
    )
    .addOption(new Option('--no-progress', 'no progress bar (default: one on a terminal)').helpGroup(group))
    .addOption(new Option('--np', "MCollective's spelling of --no-progress").hideHelp());
}

/** `--np` is MCollective's `--no-progress`. */
export const progressFlag = (flags: { progress?: boolean; np?: boolean }) =>
  flags.np ? false : flags.progress;
