/**
 * Entry of `npm run bench -- --simulate N` (bin/bench.js hands over here when it sees --simulate):
 * parses the simulation's options and runs it. See bench/README.md and docs/scale.md.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_LATENCY_FILE, simulateMain } from './simulate.ts';

const MAX_HOSTS = 100_000;

function hostCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_HOSTS) {
    throw new InvalidArgumentError(
      `give a whole number of hosts from 1 to ${MAX_HOSTS}, e.g. --simulate 10000`,
    );
  }
  return n;
}

function scale(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100)
    throw new InvalidArgumentError('give a factor from 0 to 100, e.g. 1');
  return n;
}

const program = new Command('bench')
  .description('one run across a simulated fleet of N hosts, with AWS latencies injected (docs/scale.md)')
  .addOption(
    new Option('--simulate <hosts>', 'simulated hosts in the fleet')
      .argParser(hostCount)
      .makeOptionMandatory(),
  )
  .option('--latency <file>', 'the latency profile', DEFAULT_LATENCY_FILE)
  .addOption(
    new Option('--latency-scale <factor>', 'multiply every injected latency (0: none)')
      .argParser(scale)
      .default(1),
  )
  .addOption(
    new Option(
      '--whole-scan-up-to <hosts>',
      'also measure Plan holding the whole table, up to this many hosts',
    )
      .argParser(hostCount)
      .default(20_000),
  )
  .option('--home <dir>', 'state directory (default: a temporary one, removed after)')
  .option('--json', 'one JSON document on stdout')
  .addHelpText(
    'after',
    `
Examples:
  $ npm run bench -- --simulate 1000
  $ npm run bench -- --simulate 10000 --json > sim-10k.json
  $ npm run bench -- --simulate 1000 --latency-scale 0     the emulators alone, no injected latency`,
  );
program.parse(process.argv);
const flags = program.opts<{
  simulate: number;
  latency: string;
  latencyScale: number;
  wholeScanUpTo: number;
  home?: string;
  json?: boolean;
}>();

try {
  process.exitCode = await simulateMain({
    hosts: flags.simulate,
    latencyFile: flags.latency,
    latencyScale: flags.latencyScale,
    wholeScanUpTo: flags.wholeScanUpTo,
    json: flags.json === true,
    ...(flags.home ? { home: flags.home } : {}),
  });
} catch (error: unknown) {
  process.stderr.write(`bench --simulate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
