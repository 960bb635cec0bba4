/**
 * `drover local` (what `npm start` runs), registered on the `drover` program by bin/drover.js: the
 * whole control plane on this machine with demo agents. The stack itself (main.ts) loads only
 * when the command runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { CommandHost } from '#shared/command-host.ts';
import { EXIT } from '#shared/exit-codes.ts';

/** `drover --help`'s line for `drover local`. */
export const LOCAL_SUMMARY =
  'run the whole control plane on this machine, with demo agents (what `npm start` does)';

const EXAMPLES = `
Examples:
  $ drover local                 3 demo agents (two role=web, one role=db)
  $ drover local --agents 100    100 demo agents, one agent process per 100 (at most one per core)`;

/** A whole number ≥ min; anything else is a usage error naming the flag. */
function wholeNumber(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}`);
    }
    return n;
  };
}

export function register(program: Command, host: CommandHost): void {
  const local = program.command('local').description(LOCAL_SUMMARY);
  local
    .addOption(
      local
        .createOption('--agents <n>', 'demo agents to start')
        .default(3)
        .argParser(wholeNumber('--agents')),
    )
    .addOption(
      local
        .createOption('--heartbeat <seconds>', 'demo agents heartbeat interval')
        .default(30)
        .argParser(wholeNumber('--heartbeat', 1)),
    )
    .option('--persist', 'keep DynamoDB data on disk under .drover/local/dynamodb')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: { agents: number; heartbeat: number; persist?: boolean }) => {
      const [{ main }, { LocalStackAlreadyRunning }] = await Promise.all([
        import('./main.ts'),
        import('#shared/local-stack-file.ts'),
      ]);
      const { io, stack } = host.context();
      try {
        await main({
          home: stack.home,
          agents: flags.agents,
          heartbeat: flags.heartbeat,
          persist: flags.persist ?? false,
          out: io.out,
          onInterrupt: io.onInterrupt,
        });
      } catch (error: unknown) {
        // A home that already has a running stack: the operator's to sort out, one line, exit 4.
        if (!(error instanceof LocalStackAlreadyRunning)) throw error;
        io.err(`drover: ${error.message}\n`);
        host.done(EXIT.invalid);
      }
    });
}
