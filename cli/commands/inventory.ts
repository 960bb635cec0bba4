/** `drover inventory <host>`: its flags and help; the work is in actions/inventory.ts. */
import type { Command } from 'commander';
import type { CommandHost } from '../context.ts';

const HELP = `
Examples:
  $ drover inventory web-1             facts, classes, agent version, last heartbeat
  $ drover inventory i-0abc123 --json  by node id too

Exit code 1 when the host is not in the facts table.`;

export function register(program: Command, host: CommandHost): void {
  program
    .command('inventory')
    .description('everything known about one host: facts, classes, agent version, last heartbeat')
    .argument('<host>', 'identity or node id')
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP)
    .action(async (name: string, flags: { json?: boolean }) => {
      const { inventoryCommand } = await import('../actions/inventory.ts');
      host.done(await inventoryCommand(name, flags, host.context()));
    });
}
