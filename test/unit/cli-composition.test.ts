/**
 * `drover` is composed in bin/: the CLI imports only shared/, and the local stack and the agent
 * register their own commands, loaded only when they are the command being run.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { buildProgram, commandWord } from '#cli/program.ts';
import { CONFIG_KEYS } from '#agent/setup/config-schema.ts';
import { AGENT_SUMMARY } from '#agent/command.ts';
import { LOCAL_SUMMARY } from '#local/command.ts';
import { COMPONENTS } from '../../bin/compose.ts';
import { ROOT } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll } from 'vitest';

const io = {
  out: () => undefined,
  err: () => undefined,
  color: false,
  stderr: { write: () => true },
  onInterrupt: () => () => undefined,
  setExitCode: () => undefined,
};

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

describe('the composition of drover', () => {
  it('cli/ imports only shared/ and itself (no path computed at run time)', () => {
    for (const file of sources('cli')) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
      for (const specifier of specifiers) {
        expect(specifier, `${file} imports ${specifier}`).not.toMatch(
          /^#(agent|local|functions)\/|\.\.\/\.\.\//,
        );
      }
      expect(text, `${file} loads a module by a computed path`).not.toMatch(
        /pathToFileURL|import\(\s*[^'"`)]/,
      );
    }
  });

  it.each(['cli', 'functions', 'agent', 'local'])(
    "%s/ imports only shared/ and itself (the design's dependency rule)",
    (dir) => {
      const others = ['cli', 'functions', 'agent', 'local'].filter((d) => d !== dir).join('|');
      for (const file of sources(dir)) {
        const text = readFileSync(join(ROOT, file), 'utf8');
        const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
        for (const specifier of specifiers) {
          expect(specifier, `${file} imports ${specifier}`).not.toMatch(
            new RegExp(`^#(${others})/|^(\\.\\./)+(${others})/`),
          );
          // A relative import never climbs out of its own top folder.
          const depth = file.split('/').length - 1;
          expect(
            specifier.split('/').filter((part) => part === '..').length,
            `${file} imports ${specifier}`,
          ).toBeLessThan(depth);
        }
      }
    },
  );

  it('lists each component by its own summary, without loading it', () => {
    expect(COMPONENTS.map((c) => [c.name, c.summary])).toEqual([
      ['local', LOCAL_SUMMARY],
      ['agent', AGENT_SUMMARY],
    ]);
    const program = buildProgram(io, COMPONENTS);

    // Not loaded: only the hidden option that shows `[options]` in drover --help.
    expect(program.commands.find((c) => c.name() === 'agent')?.options.map((o) => o.long)).toEqual([
      '--options',
    ]);
    expect(program.commands.find((c) => c.name() === 'local')?.description()).toBe(LOCAL_SUMMARY);
  });

  it("gives drover agent one flag per key of the agent's table (drover's own --stage aside)", async () => {
    const agent = COMPONENTS.find((c) => c.name === 'agent')!;
    const program = buildProgram(io, [{ ...agent, register: (await agent.load()).register }]);
    const command = program.commands.find((c) => c.name() === 'agent')!;
    const longs = new Set(command.options.map((o) => o.long));
    const expected = CONFIG_KEYS.map((k) => k.flag.split(' ')[0]!).filter((f) => f !== '--stage');

    expect(expected.filter((flag) => !longs.has(flag))).toEqual([]);
    expect(longs.has('--config')).toBe(true);
    expect(program.options.some((o) => o.long === '--stage')).toBe(true);
  });

  it.each([
    [[], undefined],
    [['agent', '--identity', 'a'], 'agent'],
    [['--home', 'local', 'run', 'x'], 'run'],
    [['--stage', 'prod', '--debug', 'local'], 'local'],
    [['--home=/x', 'agent'], 'agent'],
    [['help', 'agent'], 'agent'],
    [['help'], 'help'],
    [['--version'], undefined],
  ])('finds the command word of %j: %s', (argv, word) => {
    expect(commandWord(argv)).toBe(word);
  });

  it('knows every global option that takes a value', () => {
    const program = buildProgram(io);
    for (const option of program.options.filter((o) => o.required || o.optional)) {
      expect(commandWord([option.long!, 'agent', 'run'])).toBe('run');
    }
    expect(program).toBeInstanceOf(Command);
  });

  it('keeps each command in its own module: commands import no other command', () => {
    for (const file of sources('cli/commands')) {
      const text = readFileSync(join(ROOT, file), 'utf8');

      expect(text, relative(ROOT, file)).not.toMatch(/from '\.\/|from '\.\.\/actions\//);
    }
  });

  describe('drover local scale, under drover local', () => {
    const home = mkdtempSync(join(tmpdir(), 'drover-scale-help-'));
    afterAll(async () => {
      await stopCliProcesses();
      rmSync(home, { recursive: true, force: true });
    });

    it("lists the program's global options, not drover local's start options", async () => {
      const help = await droverCli(home, ['local', 'scale', '--help']);

      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Global Options:[\s\S]*--stage <name>/);
      expect(help.stdout).not.toMatch(/--agents|--heartbeat|--persist/);
    });

    it('refuses a start option given to scale instead of ignoring it', async () => {
      const run = await droverCli(home, ['local', 'scale', 'web', '--to', '2', '--agents', '4']);

      expect(run.code).toBe(4);
      expect(run.stderr).toContain('--agents: an option of `drover local`');
    });
  });
});
