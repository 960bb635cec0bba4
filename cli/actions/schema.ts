/**
 * `drover schema [output]`: the JSON Schema of a `--json`/`--jsonl` output, the same one
 * docs/cli.md documents, for validating drover's output in scripts and CI.
 */
import { EXIT, type CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { OUTPUT_SCHEMAS, jsonSchemaOf, type OutputSchemaName } from '../output/schemas.ts';

export const SCHEMA_NAMES = Object.keys(OUTPUT_SCHEMAS) as OutputSchemaName[];

export function schemaCommand(name: string | undefined, ctx: CommandContext): number {
  if (name === undefined) {
    ctx.io.out(SCHEMA_NAMES.join('\n') + '\n');
    return EXIT.ok;
  }
  if (!(SCHEMA_NAMES as string[]).includes(name)) {
    throw new CliError(`no output named "${name}": one of ${SCHEMA_NAMES.join(', ')}`);
  }
  ctx.io.out(JSON.stringify(jsonSchemaOf(name as OutputSchemaName), null, 2) + '\n');
  return EXIT.ok;
}
