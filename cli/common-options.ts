/** The filter flags several commands share (MCollective's names); output flags: output/options.ts. */
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
