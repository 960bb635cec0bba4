/**
 * `--group <name>` and `--ordinal <n>` of `drover run`: the hosts of a fleet-file group (their
 * `group` fact), or the nth of them in join order (the cell notes' `cell cmd <cell> nucleus 0`).
 */
import { Option, type Command } from 'commander';
import { GROUP_FACT, GROUP_NAME, GROUP_NAME_RULE } from '#shared/fleet-file/group-name.ts';
import type { FilterSpec, RunOptions } from '#shared/messages.ts';
import { CliError } from './errors.ts';
import { wholeNumber } from './option-parsers.ts';

export interface GroupFlags {
  group?: string;
  ordinal?: number;
}

export function addGroupOptions(cmd: Command): Command {
  const helpGroup = 'Filters:';
  return cmd
    .addOption(
      new Option('-G, --group <name>', 'hosts of this fleet-file group (their group fact)').helpGroup(
        helpGroup,
      ),
    )
    .addOption(
      new Option('--ordinal <n>', "only the group's nth host (from 0), in the order hosts joined")
        .argParser(wholeNumber('--ordinal'))
        .helpGroup(helpGroup),
    );
}

/** The filter with the group's fact added, and the ordinal option, from the flags. */
export function groupAddressing(
  spec: FilterSpec,
  flags: GroupFlags,
): { filter: FilterSpec; ordinal?: RunOptions['ordinal'] } {
  if (flags.group === undefined) {
    if (flags.ordinal !== undefined) {
      throw new CliError(
        '--ordinal needs --group: the nth host of which group? (e.g. --group nucleus --ordinal 0)',
      );
    }
    return { filter: spec };
  }
  if (!GROUP_NAME.test(flags.group))
    throw new CliError(`--group ${JSON.stringify(flags.group)}: ${GROUP_NAME_RULE}`);
  // Quoted, so a group named like a number still compares as the text the host reports.
  const filter = { ...spec, fact: [...spec.fact, `${GROUP_FACT}="${flags.group}"`] };
  return flags.ordinal === undefined
    ? { filter }
    : { filter, ordinal: { group: flags.group, index: flags.ordinal } };
}
