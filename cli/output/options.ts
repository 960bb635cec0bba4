/**
 * The output flags several commands share (`--display`, `--progress`), as commander options.
 * Light on purpose: every command's registration loads it (the printers: printer-choice.ts).
 */
import { type Command, Option } from 'commander';
import { DISPLAY_CHOICES } from './display.ts';

/** `--display ok|failed|all|none` (default all), in the group `group` when given. */
export function displayOption(group?: string): Option {
  const option = new Option('--display <which>', 'which hosts to print; the summary always prints')
    .choices(DISPLAY_CHOICES)
    .default('all');
  return group ? option.helpGroup(group) : option;
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
