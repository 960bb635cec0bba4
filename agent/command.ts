/**
 * The agent's command lines: `drover agent` (registered on the `drover` program by bin/drover.js)
 * and the flags `drover-agent` (standalone-cli.ts) has too, both generated from the one table of
 * settings in setup/config-schema.ts. The agent itself (main.ts) loads only when the command runs.
 */
import type { Command } from 'commander';
import type { CommandHost } from '#shared/command-host.ts';
import { EXIT } from '#shared/exit-codes.ts';
import { CONFIG_KEYS, envName } from './setup/config-schema.ts';

/** `drover --help`'s line for `drover agent`. */
export const AGENT_SUMMARY =
  'start an agent: joins the running local stack, or (with --config) a deployed stage as on a host';

/** Numbers stay strings when they do not parse, so the config error names the flag and value. */
const numberOrText = (value: string): number | string =>
  value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * One flag per key of CONFIG_KEYS (with `--no-` for booleans); values are checked with the rest
 * of the configuration (config.ts), so a bad one is reported like a bad key in agent.yaml. Flags
 * `cmd`'s parent already has (`drover --stage`) are left out: the parent would take them.
 */
export function addConfigFlags(cmd: Command): Command {
  const taken = new Set(cmd.parent?.options.map((o) => o.long) ?? []);
  for (const key of CONFIG_KEYS) {
    const long = key.flag.split(' ')[0]!;
    if (taken.has(long)) continue;
    const help = `${key.description} [${key.key}, ${envName(key.key)}; default ${key.default}]`;
    if (key.kind === 'boolean') {
      cmd.addOption(cmd.createOption(key.flag, help));
      cmd.addOption(cmd.createOption(`--no-${long.replace(/^--/, '')}`, `opposite of ${key.flag}`));
    } else if (key.kind === 'list') {
      cmd.addOption(cmd.createOption(key.flag, `${help} (repeatable)`).argParser(collect));
    } else if (key.kind === 'number') {
      cmd.addOption(cmd.createOption(key.flag, help).argParser(numberOrText));
    } else {
      cmd.addOption(cmd.createOption(key.flag, help));
    }
  }
  return cmd;
}

const EXAMPLES = `
Examples:
  $ drover agent --identity app-7 --facts ./app-7.yaml --classes ./classes.txt
  $ drover agent --config /etc/drover/agent.yaml       as the installed agent would run

Every key of agent.yaml, its environment variable and flag: docs/agent.md`;

/** `drover agent`: in the foreground until Ctrl-C or SIGTERM; SIGHUP reloads config and facts. */
export function register(program: Command, host: CommandHost): void {
  const agent = program
    .command('agent')
    .description(AGENT_SUMMARY)
    .option('-c, --config <file>', 'agent config file (agent.yaml); without it, join the local stack');
  addConfigFlags(agent)
    .addHelpText('after', EXAMPLES)
    .action(async (flags: Record<string, unknown>) => {
      const [{ main }, { AgentConfigError }] = await Promise.all([
        import('./main.ts'),
        import('./setup/config.ts'),
      ]);
      const { io, stack } = host.context();
      const home = flags.config ? undefined : stack.home;
      try {
        await main({ ...flags, home }, undefined, {
          exit: (code) => process.exit(code),
          handleSignals: true,
          onInterrupt: io.onInterrupt,
        });
      } catch (error: unknown) {
        if (!(error instanceof AgentConfigError)) throw error;
        // Every problem, one line each, as drover-agent prints them; no stack trace to read.
        for (const problem of error.problems) io.err(`drover agent: ${problem}\n`);
        host.done(EXIT.invalid);
      }
    });
}
