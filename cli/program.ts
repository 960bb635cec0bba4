/**
 * The `drover` command line: the root program with its global options, then one line per command,
 * each registering itself from `commands/<name>.ts` (its flags, help and a lazily loaded action).
 * Commands of other components (`drover local`, `drover agent`) are handed in by bin/drover.js.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { droverHome } from '#shared/drover-home.ts';
import type { ComponentCommand } from '#shared/command-host.ts';
import { CliError } from './errors.ts';
import type { CliIO, CommandContext, CommandHost } from './context.ts';
import { PROGRAM_HELP } from './help-text.ts';
import { closestCommand, usageErrorLine } from './usage-errors.ts';
import { register as registerRun } from './commands/run.ts';
import { register as registerPing } from './commands/ping.ts';
import { register as registerFind } from './commands/find.ts';
import { register as registerFacts } from './commands/facts.ts';
import { register as registerInventory } from './commands/inventory.ts';
import { register as registerRuns } from './commands/runs.ts';
import { register as registerShow } from './commands/show.ts';
import { register as registerCancel } from './commands/cancel.ts';
import { register as registerCost } from './commands/cost.ts';
import { register as registerSchema } from './commands/schema.ts';
import { register as registerFleet } from './commands/fleet.ts';
import { register as registerSchedule } from './commands/schedule.ts';
import { register as registerEvents } from './commands/events.ts';
import { register as registerLifecycle } from './commands/lifecycle.ts';
import { register as registerLocalScale } from './commands/local-scale.ts';

export const VERSION = '0.1.0';

/** A component's command, its registration already loaded (the one being run). */
export type LoadedComponent = Pick<ComponentCommand, 'name' | 'summary'> & {
  register?: (program: Command, host: CommandHost) => void;
};

/** The root program and its global options, without commands. */
function rootProgram(): Command {
  return new Command('drover')
    .description('Run commands on the right hosts of an EC2 fleet, picked by their facts.')
    .version(VERSION)
    .option('--debug', 'show stack traces of errors')
    .option('--home <dir>', 'project state directory (default: $DROVER_HOME or ./.drover)')
    .option('--stage <name>', 'the stage to talk to: "local" (default) or a deployed stage ($DROVER_STAGE)')
    .option('--refresh', "re-read a deployed stage's stack outputs from CloudFormation")
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', PROGRAM_HELP)
    .allowExcessArguments()
    .exitOverride();
}

/**
 * The whole command line; commands write through `io` and report their exit code to it. A
 * component without `register` is listed by name and summary only (bin/drover.js loads its
 * registration when it is the command being run).
 */
export function buildProgram(io: CliIO, components: readonly LoadedComponent[] = []): Command {
  const program = rootProgram();
  const context = (): CommandContext => {
    const globals = program.opts<{ home?: string; stage?: string; refresh?: boolean }>();
    return {
      io,
      stack: {
        home: globals.home ? resolve(globals.home) : droverHome(),
        stage: globals.stage,
        refresh: globals.refresh ?? false,
      },
    };
  };
  const host: CommandHost = { context, done: (code) => io.setExitCode(code) };

  registerRun(program, host);
  registerPing(program, host);
  registerFind(program, host);
  registerFacts(program, host);
  registerInventory(program, host);
  registerRuns(program, host);
  registerShow(program, host);
  registerCancel(program, host);
  registerCost(program, host);
  registerSchema(program, host);
  registerFleet(program, host);
  registerSchedule(program, host);
  registerEvents(program, host);
  registerLifecycle(program, host);

  for (const component of components) {
    if (component.register) component.register(program, host);
    else {
      // Listed only; the hidden option makes --help show `[options]`, as the real command has.
      program
        .command(component.name)
        .description(component.summary)
        .addOption(new Option('--options').hideHelp());
    }
  }

  // `drover local scale` is a subcommand of the local component's command (listed or loaded).
  registerLocalScale(program, host);

  // `drover` alone, or an unknown command: one line saying what to do.
  program.action(() => {
    const names = program.commands.map((c) => c.name()).filter((name) => name !== 'help');
    const typed = program.args[0];
    if (typed === undefined) {
      throw new CliError(`missing command: give one of ${names.join(', ')} (drover --help shows them all)`);
    }
    const near = closestCommand(typed, names);
    throw new CliError(
      `unknown command "${typed}"${near ? `; did you mean "${near}"?` : ''} (drover --help lists the commands)`,
    );
  });

  // Usage errors print as one line naming the help to read; output goes through `io`.
  const configure = (cmd: Command, path: string) => {
    cmd.configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      outputError: (message) => io.err(usageErrorLine(message, path)),
    });
    for (const sub of cmd.commands) configure(sub, `${path} ${sub.name()}`);
  };
  configure(program, 'drover');
  return program;
}

/**
 * The command word of `argv` (arguments after the program name): the first one that is neither
 * a global option nor a global option's value. `help agent` is about `agent`.
 */
export function commandWord(argv: readonly string[]): string | undefined {
  const valued = new Set(
    rootProgram()
      .options.filter((o) => o.required || o.optional)
      .flatMap((o) => [o.long, o.short].filter((f): f is string => f !== undefined)),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1];
    if (arg.startsWith('-')) {
      if (valued.has(arg)) i++;
      continue;
    }
    if (arg === 'help' && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) return argv[i + 1];
    return arg;
  }
  return undefined;
}
