/** `drover facts <fact>`: its flags and help; the work is in actions/facts.ts, loaded when it runs. */
import type { Command } from 'commander';
import type { CommandHost } from '../context.ts';
import { addFilterOptions } from '../common-options.ts';
import { FILTERS } from '../help-text.ts';

const HELP = `${FILTERS}

Examples:
  $ drover facts role                  each value of role, how many hosts have it, and which
  $ drover facts os.family -C nginx    nested facts by dotted path, on the nginx hosts
  $ drover facts kernel --json | jq -r '.values[] | "\\(.count) \\(.text)"'`;

export function register(program: Command, host: CommandHost): void {
  const facts = program
    .command('facts')
    .description('how the values of a fact are distributed across the matching hosts')
    .argument('<fact>', 'fact name; dotted paths reach nested facts (os.family)');
  addFilterOptions(facts)
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP)
    .action(async (fact: string, flags: Record<string, unknown>) => {
      const { factsCommand } = await import('../actions/facts.ts');
      host.done(await factsCommand(fact, flags, host.context()));
    });
}
