/**
 * CI runs exactly what the README tells a newcomer to run: its install and test commands (the
 * tests under the machine's Node and again under Node 22), nothing more and nothing less.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/processes.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};

/** The commands of the README's first shell block, comments off, but `npm start` (it runs until Ctrl-C). */
function readmeCommands(): string[] {
  const block = /```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '' && line !== 'npm start');
}

describe('CI and the README', () => {
  it('runs the README install and test commands, in order', () => {
    const commands = ci
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^npm /.test(line));

    expect(commands).toEqual(readmeCommands());
    expect(commands).toEqual(['npm ci', 'npm test', 'npm run test:node22']);
  });

  it('tests under Node 22 with the npm registry node package, and declares 22 and 24 supported', () => {
    expect(packageJson.scripts['test:node22']).toMatch(/^npx -y node@22 .*vitest.* run$/);
    expect(packageJson.engines.node).toBe('^22.12.0 || >=24.0.0');
  });
});
