/**
 * The `drover` command line: commands, flags and their help. Each command's work lives in
 * `commands/`; the local stack and the agent are started through their own entry modules.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { droverHome } from '#shared/local-stack-file.ts';
import { runCommand } from './commands/run.ts';
import { wholeNumber } from './run-request.ts';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
export const VERSION = '0.1.0';

export interface ProgramIO {
  out: (text: string) => void;
  err: (text: string) => void;
  color: boolean;
  setExitCode: (code: number) => void;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Loads another component's entry module by path (the CLI does not import their code). */
async function entry<T>(relativePath: string): Promise<T> {
  return (await import(pathToFileURL(join(ROOT, relativePath)).href)) as T;
}

const RUN_EXAMPLES = `
Filters (they AND together; see docs/cli.md):
  -W, --with 'role=web'         a fact comparison, or a bare class/fact name
  -F, --wf 'cpus>=4'            fact: = != =~ < > <= >=, /regex/, dotted paths (os.family=Debian)
  -C, --wc nginx                class, exact or /regex/
  -I, --wi web-1                identity, exact or /regex/ (repeat to list several)
  -S, --select 'role=web and (az=us-east-1a or az=us-east-1b) and not class:maintenance'

Examples:
  $ drover run 'uptime'                                   every host
  $ drover run 'systemctl restart nginx' -F role=web -F env=production
  $ drover run 'df -h /' -S 'role=db or class:postgresql' -t 30
  $ drover run 'hostname' -C nginx --json | jq -r '.hosts[].stdout'

Exit codes:
  0 every host succeeded   1 no host matched   2 a command exited non-zero
  3 a host did not respond or timed out      4 invalid request, rejected, or drover error`;

export function buildProgram(io: ProgramIO): Command {
  const program = new Command('drover')
    .description('Run commands on the right hosts of an EC2 fleet, picked by their facts.')
    .version(VERSION)
    .option('--debug', 'show stack traces of errors')
    .option('--home <dir>', 'project state directory (default: $DROVER_HOME or ./.drover)')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const home = (): string => {
    const dir = program.opts<{ home?: string }>().home;
    return dir ? resolve(dir) : droverHome();
  };

  program
    .command('run')
    .description('run a shell command on every host matching the filters and report each result')
    .argument('<command>', 'shell command, run with bash -c on each host')
    .addOption(
      new Option('-W, --with <filter>', 'fact comparison or class/fact name (repeatable)').argParser(collect),
    )
    .addOption(
      new Option('-F, --wf <fact>', 'fact filter, e.g. role=web, cpus>=4 (repeatable)').argParser(collect),
    )
    .addOption(
      new Option('-C, --wc <class>', 'class filter, exact or /regex/ (repeatable)').argParser(collect),
    )
    .addOption(
      new Option('-I, --wi <identity>', 'identity, exact or /regex/ (repeatable: any of them)').argParser(
        collect,
      ),
    )
    .option('-S, --select <expression>', 'compound filter with and/or/not/( )')
    .addOption(
      new Option('-t, --timeout <seconds>', 'kill the command after this long (default 60)').argParser(
        wholeNumber('--timeout', 1),
      ),
    )
    .addOption(
      new Option(
        '--dt, --discovery-timeout <seconds>',
        'wait this long for hosts to acknowledge (default 5)',
      ).argParser(wholeNumber('--discovery-timeout', 1)),
    )
    .addOption(
      new Option(
        '--ttl <seconds>',
        'hosts drop the request after this long (default: discovery timeout + 60)',
      ).argParser(wholeNumber('--ttl', 1)),
    )
    .addOption(
      new Option('--batch <hosts>', 'run on this many hosts at a time').argParser(wholeNumber('--batch', 1)),
    )
    .addOption(
      new Option('--batch-sleep <seconds>', 'pause between batches').argParser(wholeNumber('--batch-sleep')),
    )
    .addOption(
      new Option('--max-errors <hosts>', 'stop starting batches once more hosts than this failed').argParser(
        wholeNumber('--max-errors'),
      ),
    )
    .addOption(
      new Option('--limit <hosts>', 'run on a random subset of this many matching hosts').argParser(
        wholeNumber('--limit', 1),
      ),
    )
    .option('--json', 'print one JSON document with every host and the summary (nothing else on stdout)')
    .option('--stage <name>', 'the stage to talk to (default: the local stack)')
    .addHelpText('after', RUN_EXAMPLES)
    .action(async (command: string, flags: Record<string, unknown>) => {
      const code = await runCommand(command, {
        ...flags,
        dt: flags.discoveryTimeout as number | undefined,
        home: home(),
        color: io.color,
        out: io.out,
        err: io.err,
      });
      io.setExitCode(code);
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
      `\nExamples:\n  $ drover local                 3 demo agents (two role=web, one role=db)\n  $ drover local --agents 100    a bigger demo fleet in one agent process`,
    )
    .action(async (flags: { agents: number; heartbeat: number; persist?: boolean }) => {
      const local = await entry<typeof import('../local/main.ts')>('local/main.ts');
      await local.main({
        home: home(),
        agents: flags.agents,
        heartbeat: flags.heartbeat,
        persist: flags.persist ?? false,
        out: io.out,
      });
    });

  program
    .command('agent')
    .description('start an agent that joins the running local stack with its own identity and facts')
    .option('--identity <name>', 'host identity (default: this hostname)')
    .option('--node-id <id>', 'node id (default: the identity)')
    .addOption(
      new Option('--facts <file>', 'YAML/JSON facts file (repeatable)').argParser(collect).default([]),
    )
    .addOption(
      new Option('--classes <file>', 'word-list file of classes, like puppet classes.txt (repeatable)')
        .argParser(collect)
        .default([]),
    )
    .option('--facts-command <command>', 'command whose YAML/JSON output adds facts')
    .option('--state-dir <dir>', 'where the dedupe store and audit log live')
    .addOption(
      new Option('--heartbeat <seconds>', 'heartbeat interval')
        .default(60)
        .argParser(wholeNumber('--heartbeat', 1)),
    )
    .addOption(
      new Option('--concurrency <n>', 'commands run at once')
        .default(4)
        .argParser(wholeNumber('--concurrency', 1)),
    )
    .addOption(
      new Option('--output-cap <bytes>', 'bytes kept per stream (head and tail)')
        .default(65_536)
        .argParser(wholeNumber('--output-cap', 1024)),
    )
    .option('--hosts <file>', 'host many agents in this process: JSON list of {identity, facts, classes}')
    .addOption(
      new Option('--log-level <level>', 'debug, info, warn or error')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .addHelpText(
      'after',
      `\nExample:\n  $ drover agent --identity app-7 --facts ./app-7.yaml --classes ./classes.txt`,
    )
    .action(async (flags: Record<string, unknown>) => {
      const agent = await entry<typeof import('../agent/main.ts')>('agent/main.ts');
      await agent.main({ ...(flags as object), home: home() } as Parameters<typeof agent.main>[0]);
    });

  return program;
}
