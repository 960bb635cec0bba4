/** `drover schema [output]`: its help; the schemas are in output/schemas.ts, loaded when it runs. */
import type { Command } from 'commander';
import type { CommandHost } from '../context.ts';

const HELP = `
Examples:
  $ drover schema                      the names of the outputs
  $ drover schema run                  the JSON Schema of drover run --json`;

export function register(program: Command, host: CommandHost): void {
  program
    .command('schema')
    .description('print the JSON Schema of a --json/--jsonl output')
    .argument('[output]', 'which output: run, run-jsonl, ping, find, … (drover schema lists them)')
    .addHelpText('after', HELP)
    .action(async (name: string | undefined) => {
      const { schemaCommand } = await import('../actions/schema.ts');
      host.done(schemaCommand(name, host.context()));
    });
}
