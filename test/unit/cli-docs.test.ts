/**
 * docs/cli.md is the reference of the `drover` command: it must document every command and
 * option the program has, and embed exactly the JSON Schemas the outputs are validated against.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '#cli/program.ts';
import { COMPONENTS } from '../../bin/compose.ts';
import { OUTPUT_SCHEMAS, jsonSchemaOf, type OutputSchemaName } from '#cli/output/schemas.ts';
import { ROOT } from '../helpers/processes.ts';

const docs = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
const agentDocs = readFileSync(join(ROOT, 'docs', 'agent.md'), 'utf8');
// The whole program as `drover` composes it, every component's command registered.
const components = await Promise.all(
  COMPONENTS.map(async (c) => ({ name: c.name, summary: c.summary, register: (await c.load()).register })),
);
const program = buildProgram(
  {
    out: () => undefined,
    err: () => undefined,
    color: false,
    stderr: { write: () => true },
    onInterrupt: () => () => undefined,
    setExitCode: () => undefined,
  },
  components,
);

/** The text of `### drover <name>` up to the next heading of that level or above. */
function section(name: string): string {
  const start = docs.indexOf(`\n### drover ${name}\n`);
  if (start < 0) return '';
  const end = docs.slice(start + 1).search(/\n#{2,3} /);
  return end < 0 ? docs.slice(start) : docs.slice(start, start + 1 + end);
}

describe('docs/cli.md', () => {
  const commands = program.commands.filter((c) => c.name() !== 'help');

  it.each(commands.map((c) => [c.name(), c] as const))(
    'documents drover %s and each of its options',
    (name, command) => {
      // drover agent has every flag of drover-agent: docs/agent.md's table lists them.
      const text = name === 'agent' ? section(name) + agentDocs : section(name);

      expect(text, `a "### drover ${name}" section`).not.toBe('');
      for (const option of command.options.filter((o) => !o.hidden)) {
        expect(text, `drover ${name} ${option.long}`).toContain(option.long!);
      }
    },
  );

  it('documents the global options', () => {
    for (const option of program.options.filter((o) => !o.hidden)) expect(docs).toContain(option.long!);
  });

  it.each(Object.keys(OUTPUT_SCHEMAS))(
    'embeds the JSON Schema of the %s output as the code has it',
    (name) => {
      const at = docs.indexOf(`<!-- schema:${name} -->`);
      expect(at, `a schema:${name} marker`).toBeGreaterThan(0);
      const block = /```json\n([\s\S]*?)\n```/.exec(docs.slice(at));

      expect(JSON.parse(block![1]!)).toEqual(jsonSchemaOf(name as OutputSchemaName));
    },
  );

  it('has the table for operators coming from MCollective and SSM Run Command', () => {
    expect(docs).toContain('## Coming from MCollective or SSM Run Command');
    for (const mco of ['mco ping', 'mco find', 'mco facts', 'mco inventory']) expect(docs).toContain(mco);
  });
});
