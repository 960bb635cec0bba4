/**
 * `drover-agent`, the command the bundle (dist/drover-agent.mjs) runs on every host: flags, one per
 * config key (see setup/config-schema.ts, command.ts), then `main`. Problems with the configuration print as
 * `drover-agent: config <source> key "<key>": <problem>` and exit 2; nothing prints a stack trace.
 */
import { Command } from 'commander';
import { LocalStackNotRunning } from '#shared/local-stack-file.ts';
import { AgentConfigError } from './setup/config.ts';
import { CONFIG_PATH_ENV, DEFAULT_CONFIG_PATH } from './setup/config-schema.ts';
import { addConfigFlags } from './command.ts';
import { AGENT_VERSION, main } from './main.ts';

const EXIT_CONFIG = 2;
const EXIT_FAILURE = 1;

// The SDK's Node 20 end-of-support notice is known (DESIGN.md section 11); keep it out of the journal.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function buildAgentProgram(): Command {
  const program = new Command('drover-agent')
    .description('The drover agent: runs signed commands from its SQS inbox on this host.')
    .version(AGENT_VERSION)
    .option('-c, --config <file>', `config file (default: $${CONFIG_PATH_ENV} or ${DEFAULT_CONFIG_PATH})`)
    .option('--home <dir>', 'join the local stack of this .drover directory (development)')
    .showHelpAfterError('(add --help for usage)');
  addConfigFlags(program);
  program.addHelpText(
    'after',
    `\nSignals: SIGTERM stops (running commands get shutdown_grace_sec), SIGHUP reloads config and facts.\nSee docs/agent.md for every key and a locked-down example.`,
  );
  return program;
}

async function run(argv: string[]): Promise<void> {
  const program = buildAgentProgram();
  program.parse(argv);
  try {
    await main(program.opts());
  } catch (error: unknown) {
    if (error instanceof AgentConfigError) {
      for (const problem of error.problems) process.stderr.write(`drover-agent: ${problem}\n`);
      process.exit(EXIT_CONFIG);
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`drover-agent: ${message}\n`);
    process.exit(error instanceof LocalStackNotRunning ? EXIT_CONFIG : EXIT_FAILURE);
  }
}

await run(process.argv);
