/**
 * The bench's command line (bench/README.md): options, their limits and defaults. Kept apart from
 * the bench itself so they can be tested without starting a stack.
 */
import { Command, InvalidArgumentError, Option } from 'commander';

export interface BenchOptions {
  agents: number;
  runs: number;
  warmup: number;
  command: string;
  json: boolean;
  home?: string;
  watcher: 'thin' | 'cli';
  pollMs: number;
  cliRuns: number;
  pdshRuns: number;
  heartbeat: number;
}

/**
 * As `drover local`'s demo fleet beats (so figures compare with earlier ones): with 1,000 agents
 * that is 33 heartbeats a second through SQS, ingest and DynamoDB during every run. `--heartbeat
 * 300` is the agents' own default (`heartbeat_sec`, agent/config-schema.ts), a fleet as deployed.
 */
export const BENCH_HEARTBEAT_SEC = 30;

export function wholeNumber(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** The bench's command: its options and help (tests parse with it, `exitOverride()` set). */
export function benchCommand(): Command {
  return new Command('bench')
    .description('Measure end-to-end run latency on the embedded stack with a demo fleet.')
    .addOption(
      new Option('--agents <n>', 'demo agents in the fleet')
        .argParser(wholeNumber('--agents', 1, 2000))
        .default(100),
    )
    .addOption(
      new Option('--runs <n>', 'measured runs (after the warm-up runs)')
        .argParser(wholeNumber('--runs', 1, 10_000))
        .default(20),
    )
    .addOption(
      new Option(
        '--warmup <n>',
        'runs first, reported apart: the three fresh processes compile their hot paths',
      )
        .argParser(wholeNumber('--warmup', 1, 100))
        .default(5),
    )
    .addOption(
      new Option('--command <shell>', 'command every agent runs')
        .argParser((value: string) => {
          if (value.trim() === '') throw new InvalidArgumentError('--command must not be empty.');
          return value;
        })
        .default('true'),
    )
    .option('--json', 'print one JSON document on stdout (progress goes to stderr)', false)
    .option('--home <dir>', 'state directory to use and keep (default: a fresh temporary one, removed)')
    .addOption(
      new Option('--watcher <kind>', 'thin: DescribeExecution until done; cli: the drover run watcher')
        .choices(['thin', 'cli'])
        .default('thin'),
    )
    .addOption(
      new Option('--poll-ms <ms>', 'watcher poll interval')
        .argParser(wholeNumber('--poll-ms', 1, 1000))
        .default(25),
    )
    .addOption(
      new Option(
        '--cli-runs <n>',
        'then this many `drover run` processes, timed whole (CLI start-up included)',
      )
        .argParser(wholeNumber('--cli-runs', 0, 1000))
        .default(5),
    )
    .addOption(
      new Option(
        '--pdsh-runs <n>',
        'then this many runs of `pdsh -R exec -f 64` over as many hosts, the floor drover is compared with (0: none)',
      )
        .argParser(wholeNumber('--pdsh-runs', 0, 1000))
        .default(5),
    )
    .addOption(
      new Option('--heartbeat <seconds>', "the agents' heartbeat interval (the agents' own default: 300)")
        .argParser(wholeNumber('--heartbeat', 1, 86_400))
        .default(BENCH_HEARTBEAT_SEC),
    )
    .addHelpText(
      'after',
      `
Examples:
  npm run bench -- --agents 100 --runs 20
  npm run bench -- --agents 1000 --runs 5 --warmup 2 --cli-runs 2 --json > bench-1000.json
  npm run bench -- --agents 1000 --heartbeat 300    # heartbeats at the agents' own default interval
  npm run bench -- --agents 25 --command 'uname -r' --pdsh-runs 0

Figures and what each phase covers: bench/README.md.`,
    );
}

/** The options of `argv` (process.argv: node and the script first); exits with a message on bad input. */
export function parseOptions(argv: string[]): BenchOptions {
  const program = benchCommand();
  program.parse(argv);
  return program.opts<BenchOptions>();
}
