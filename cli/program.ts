/**
 * The `drover` command line: commands, flags and their help (commander). Each command's work
 * lives in `commands/`; the local stack and the agent are started through their own entry modules.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { droverHome, LocalStackAlreadyRunning } from '#shared/local-stack-file.ts';
import { CliError } from './errors.ts';
import type { CliIO, CommandContext } from './context.ts';
import { amount, hostCount, wholeNumber } from './option-parsers.ts';
import { HELP } from './help-text.ts';
import { DISPLAY_CHOICES } from './output/display.ts';
import { addFilterOptions, addProgressOptions, collect, progressFlag } from './common-options.ts';
import { closestCommand, usageErrorLine } from './usage-errors.ts';
import { RUN_STATUSES } from './output/run-statuses.ts';
import { ASSUMPTIONS, PRICES } from './cost/model.ts';
import { register as registerEvents } from './commands/events.ts';
import { register as registerLifecycle } from './commands/lifecycle.ts';
import { register as registerLocalScale } from './commands/local-scale.ts';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
export const VERSION = '0.1.0';

/** Loads another component's entry module by path (the CLI does not import their code). */
async function entry<T>(relativePath: string): Promise<T> {
  return (await import(pathToFileURL(join(ROOT, relativePath)).href)) as T;
}

// Commands load their modules (and the AWS SDK) only when they run: `--help` and `cost` stay quick.
const commands = {
  run: () => import('./commands/run.ts'),
  ping: () => import('./commands/ping.ts'),
  find: () => import('./commands/find.ts'),
  facts: () => import('./commands/facts.ts'),
  inventory: () => import('./commands/inventory.ts'),
  runs: () => import('./commands/runs.ts'),
  show: () => import('./commands/show.ts'),
  cancel: () => import('./commands/cancel.ts'),
  cost: () => import('./commands/cost.ts'),
  schema: () => import('./commands/schema.ts'),
};

/** The whole command line; commands write through `io` and report their exit code to it. */
export function buildProgram(io: CliIO): Command {
  const program = new Command('drover')
    .description('Run commands on the right hosts of an EC2 fleet, picked by their facts.')
    .version(VERSION)
    .option('--debug', 'show stack traces of errors')
    .option('--home <dir>', 'project state directory (default: $DROVER_HOME or ./.drover)')
    .option('--stage <name>', 'the stage to talk to: "local" (default) or a deployed stage ($DROVER_STAGE)')
    .option('--refresh', "re-read a deployed stage's stack outputs from CloudFormation")
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', HELP.program)
    .allowExcessArguments()
    .exitOverride();

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
  const done = (code: number) => io.setExitCode(code);

  const run = program
    .command('run')
    .description('run a shell command on every host matching the filters and report each result')
    .argument('<command>', 'shell command, run with bash -c on each host');
  addFilterOptions(run);
  const runGroup = 'Run:';
  run
    .addOption(
      new Option(
        '--nodes <file>',
        'address these hosts: one identity per line, or drover JSON; - reads stdin',
      ).helpGroup(runGroup),
    )
    .addOption(
      new Option('-t, --timeout <seconds>', 'kill the command after this long (default 60)')
        .argParser(wholeNumber('--timeout', 1))
        .helpGroup(runGroup),
    )
    .addOption(
      new Option(
        '--dt, --discovery-timeout <seconds>',
        'wait this long for hosts to acknowledge (default 10)',
      )
        .argParser(wholeNumber('--discovery-timeout', 1))
        .helpGroup(runGroup),
    )
    .addOption(
      new Option(
        '--ttl <seconds>',
        'hosts drop the request after this long (default: discovery timeout + 60)',
      )
        .argParser(wholeNumber('--ttl', 1))
        .helpGroup(runGroup),
    )
    .addOption(
      new Option(
        '--batch <n|n%>',
        'run on this many hosts (or this share of them) at a time; at most 800 batches',
      )
        .argParser(hostCount('--batch', 1))
        .helpGroup(runGroup),
    )
    .addOption(
      new Option('--batch-sleep <seconds>', 'pause between batches')
        .argParser(wholeNumber('--batch-sleep'))
        .helpGroup(runGroup),
    )
    .addOption(
      new Option('--max-errors <n|n%>', 'start no further batch once more hosts than this failed')
        .argParser(hostCount('--max-errors'))
        .helpGroup(runGroup),
    )
    .addOption(
      new Option('--limit <n|n%>', 'run on a random subset of the matching hosts')
        .argParser(hostCount('--limit', 1))
        .helpGroup(runGroup),
    )
    .addOption(
      new Option('--limit-seed <seed>', 'seed of the --limit subset, so it can be repeated').helpGroup(
        runGroup,
      ),
    )
    .addOption(
      new Option('--async', 'print the run id and exit; drover show <runId> later').helpGroup(runGroup),
    )
    .addOption(
      new Option('-j, --json', 'one JSON document with every host and the summary (only data on stdout)')
        .conflicts('jsonl')
        .helpGroup('Output:'),
    )
    .addOption(
      new Option('--jsonl', 'one JSON line per host as it lands, then the summary line').helpGroup('Output:'),
    )
    .addOption(
      new Option('--display <which>', 'which hosts to print; the summary always prints')
        .choices(DISPLAY_CHOICES)
        .default('all')
        .helpGroup('Output:'),
    );
  addProgressOptions(run)
    .addHelpText('after', HELP.run)
    .action(async (command: string, flags: Record<string, unknown>) => {
      const { runCommand } = await commands.run();
      done(
        await runCommand(
          command,
          { ...flags, dt: flags.discoveryTimeout as number | undefined, progress: progressFlag(flags) },
          context(),
        ),
      );
    });

  const ping = program
    .command('ping')
    .description('ask the matching hosts to answer, and show how fast each did');
  addFilterOptions(ping)
    .addOption(
      new Option(
        '--dt, --discovery-timeout <seconds>',
        'wait this long for hosts to answer (default 10)',
      ).argParser(wholeNumber('--discovery-timeout', 1)),
    )
    .addOption(new Option('-j, --json', 'one JSON document (only data on stdout)').helpGroup('Output:'));
  addProgressOptions(ping)
    .addHelpText('after', HELP.ping)
    .action(async (flags: Record<string, unknown>) => {
      const { pingCommand } = await commands.ping();
      done(
        await pingCommand(
          { ...flags, dt: flags.discoveryTimeout as number | undefined, progress: progressFlag(flags) },
          context(),
        ),
      );
    });

  const find = program
    .command('find')
    .description(
      'list the hosts matching the filters, from the facts table (discovery only: nothing is sent)',
    );
  addFilterOptions(find)
    .option('--include-stale', 'also hosts silent for more than 3 heartbeats (marked stale)')
    .option('--all', 'also hosts no longer in service (lost, stopped, terminated), listed apart')
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP.find)
    .action(async (flags: Record<string, unknown>) => {
      const { findCommand } = await commands.find();
      done(await findCommand(flags, context()));
    });

  const facts = program
    .command('facts')
    .description('how the values of a fact are distributed across the matching hosts')
    .argument('<fact>', 'fact name; dotted paths reach nested facts (os.family)');
  addFilterOptions(facts)
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP.facts)
    .action(async (fact: string, flags: Record<string, unknown>) => {
      const { factsCommand } = await commands.facts();
      done(await factsCommand(fact, flags, context()));
    });

  program
    .command('inventory')
    .description('everything known about one host: facts, classes, agent version, last heartbeat')
    .argument('<host>', 'identity or node id')
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP.inventory)
    .action(async (host: string, flags: { json?: boolean }) => {
      const { inventoryCommand } = await commands.inventory();
      done(await inventoryCommand(host, flags, context()));
    });

  program
    .command('runs')
    .description('recent runs, newest first: id, when, caller, status, counts, command, filter')
    .addOption(new Option('--limit <n>', 'how many runs').default(20).argParser(wholeNumber('--limit', 1)))
    .option('--caller <who>', 'only runs started by this caller (user@host)')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(RUN_STATUSES))
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP.runs)
    .action(async (flags: { limit: number; caller?: string; status?: string; json?: boolean }) => {
      const { runsCommand } = await commands.runs();
      done(await runsCommand(flags, context()));
    });

  const show = program
    .command('show')
    .description('print a past run exactly as drover run printed it (or follow it if still running)')
    .argument('<runId>', 'the run id (drover runs lists them)')
    .addOption(new Option('-j, --json', 'one JSON document, as drover run --json').conflicts('jsonl'))
    .option('--jsonl', 'JSON lines, as drover run --jsonl')
    .addOption(
      new Option('--display <which>', 'which hosts to print; the summary always prints')
        .choices(DISPLAY_CHOICES)
        .default('all'),
    );
  addProgressOptions(show)
    .addHelpText('after', HELP.show)
    .action(async (runId: string, flags: Record<string, unknown>) => {
      const { showCommand } = await commands.show();
      done(await showCommand(runId, { ...flags, progress: progressFlag(flags) }, context()));
    });

  program
    .command('cancel')
    .description("stop a running run: hosts kill the command's process group and end as cancelled")
    .argument('<runId>', 'the run id (drover runs lists them)')
    .addOption(
      new Option('--wait <seconds>', 'wait this long for the run to end (0: do not wait)')
        .default(30)
        .argParser(wholeNumber('--wait')),
    )
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP.cancel)
    .action(async (runId: string, flags: { wait: number; json?: boolean }) => {
      const { cancelCommand } = await commands.cancel();
      done(await cancelCommand(runId, flags, context()));
    });

  const cost = program
    .command('cost')
    .description('estimate the monthly AWS cost of a stage for a fleet size and usage (no AWS call)');
  for (const parameter of [...ASSUMPTIONS, ...PRICES]) {
    const option = new Option(
      `${parameter.flag} <${parameter.unit === 'USD' ? 'usd' : 'n'}>`,
      parameter.meaning,
    )
      .argParser(amount(parameter.flag))
      .helpGroup(parameter.flag.startsWith('--price-') ? 'Prices:' : 'Assumptions:');
    cost.addOption(option);
  }
  cost
    .option('-j, --json', 'one JSON document (only data on stdout)')
    .addHelpText('after', HELP.cost)
    .action(async (flags: Record<string, number | boolean>) => {
      const { costCommand } = await commands.cost();
      const byKey: Record<string, number> = {};
      for (const parameter of [...ASSUMPTIONS, ...PRICES]) {
        const attribute = new Option(parameter.flag).attributeName();
        if (typeof flags[attribute] === 'number') byKey[parameter.key] = flags[attribute];
      }
      done(costCommand({ ...byKey, json: flags.json === true }, context()));
    });

  program
    .command('schema')
    .description('print the JSON Schema of a --json/--jsonl output')
    .argument('[output]', 'which output: run, run-jsonl, ping, find, … (drover schema lists them)')
    .addHelpText('after', HELP.schema)
    .action(async (name: string | undefined) => {
      const { schemaCommand } = await commands.schema();
      done(schemaCommand(name, context()));
    });

  program
    .command('local')
    .description('run the whole control plane on this machine, with demo agents (what `npm start` does)')
    .addOption(
      new Option('--agents <n>', 'demo agents to start').default(3).argParser(wholeNumber('--agents')),
    )
    .addOption(
      new Option('--heartbeat <seconds>', 'demo agents heartbeat interval')
        .default(30)
        .argParser(wholeNumber('--heartbeat', 1)),
    )
    .option('--persist', 'keep DynamoDB data on disk under .drover/local/dynamodb')
    .addHelpText(
      'after',
      `\nExamples:\n  $ drover local                 3 demo agents (two role=web, one role=db)\n  $ drover local --agents 100    100 demo agents, one agent process per 100 (at most one per core)`,
    )
    .action(async (flags: { agents: number; heartbeat: number; persist?: boolean }) => {
      const local = await entry<typeof import('../local/main.ts')>('local/main.ts');
      try {
        await local.main({
          home: context().stack.home,
          agents: flags.agents,
          heartbeat: flags.heartbeat,
          persist: flags.persist ?? false,
          out: io.out,
          onInterrupt: io.onInterrupt,
        });
      } catch (error: unknown) {
        // A home that already has a running stack: the operator's to sort out, one line, exit 4.
        if (error instanceof LocalStackAlreadyRunning) throw new CliError(error.message, 4, { cause: error });
        throw error;
      }
    });

  program
    .command('agent')
    .description(
      'start an agent: joins the running local stack, or (with --config) a deployed stage as on a host',
    )
    .option('-c, --config <file>', 'agent config file (agent.yaml); without it, join the local stack')
    .option('--identity <name>', 'host identity (default: this hostname)')
    .option('--node-id <id>', 'node id (default: the identity)')
    .addOption(new Option('--facts <file>', 'YAML/JSON facts file (repeatable)').argParser(collect))
    .addOption(
      new Option(
        '--classes <file>',
        'word-list file of classes, like puppet classes.txt (repeatable)',
      ).argParser(collect),
    )
    .option('--facts-command <command>', 'command whose YAML/JSON output adds facts')
    .option('--state-dir <dir>', 'where the dedupe store and audit log live')
    // No defaults here: the agent's own (docs/agent.md) apply, after its config file and environment.
    .addOption(
      new Option('--heartbeat <seconds>', 'heartbeat interval (default 60)').argParser(
        wholeNumber('--heartbeat', 1),
      ),
    )
    .addOption(
      new Option('--concurrency <n>', 'commands run at once (default 4)').argParser(
        wholeNumber('--concurrency', 1),
      ),
    )
    .addOption(
      new Option(
        '--output-cap <bytes>',
        'bytes kept per stream, head and tail (default 65536; a result carries at most 245760 in all)',
      ).argParser(wholeNumber('--output-cap', 1024)),
    )
    .option('--hosts <file>', 'host many agents in this process: JSON list of {identity, facts, classes}')
    .addOption(
      new Option('--log-level <level>', 'debug, info, warn or error (default info)').choices([
        'debug',
        'info',
        'warn',
        'error',
      ]),
    )
    .addHelpText(
      'after',
      `\nExamples:\n  $ drover agent --identity app-7 --facts ./app-7.yaml --classes ./classes.txt\n` +
        `  $ drover agent --config /etc/drover/agent.yaml       as the installed agent would run\n` +
        `\nEvery key of agent.yaml, its environment variable and flag: docs/agent.md`,
    )
    .action(async (flags: Record<string, unknown>) => {
      const agent = await entry<typeof import('../agent/main.ts')>('agent/main.ts');
      const home = flags.config ? undefined : context().stack.home;
      await agent.main({ ...flags, home } as Parameters<typeof agent.main>[0], undefined, {
        exit: (code) => process.exit(code),
        handleSignals: true,
        onInterrupt: io.onInterrupt,
      });
    });

  registerEvents(program, { context, done });
  registerLifecycle(program, { context, done });
  registerLocalScale(program, { context, done });

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
