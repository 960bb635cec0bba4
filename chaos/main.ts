/**
 * `npm run chaos`: the fault suite. Drives the embedded stack and real agent processes through
 * the faults of chaos/scenarios.ts, prints one table (what was expected, recorded, lost, run
 * twice, run after "no response", counted wrong) and exits 1 on any loss, double execution,
 * execution after "no response", wrong count or scenario that could not complete.
 * `--bounded` is the short form the test suite runs; `--json` prints the rows as JSON.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ChaosStack, type Row } from './harness.ts';
import {
  agentKilledMidCommand,
  agentPaused,
  agentRestarted,
  concurrentRuns,
  deadLetterPath,
  everyMessageThrice,
  repliesQueueDown,
  ingestFailing,
  sqsEndpointDown,
  type Scenario,
  type ScenarioOptions,
} from './scenarios.ts';

const SCENARIOS: Record<string, Scenario> = {
  kill: agentKilledMidCommand,
  restart: agentRestarted,
  pause: agentPaused,
  thrice: everyMessageThrice,
  outage: repliesQueueDown,
  ingest: ingestFailing,
  sqsdown: sqsEndpointDown,
  dlq: deadLetterPath,
  load: concurrentRuns,
};
const BOUNDED = ['pause', 'thrice', 'load'];

const COLUMNS: [keyof Row, string][] = [
  ['runs', 'runs'],
  ['hosts', 'hosts'],
  ['expected', 'results expected'],
  ['recorded', 'recorded'],
  ['lost', 'lost'],
  ['executions', 'executions'],
  ['doubleExecutions', 'double'],
  ['lateAfterNoResponse', 'ran after no response'],
  ['wrongCounts', 'wrong counts'],
];

const whole = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number above 0`);
  return n;
};

export function failed(row: Row): boolean {
  return row.lost > 0 || row.doubleExecutions > 0 || row.lateAfterNoResponse > 0 || row.wrongCounts > 0;
}

export function formatTable(rows: readonly Row[]): string {
  const header = ['scenario', ...COLUMNS.map(([, title]) => title), 'verdict'];
  const lines = rows.map((row) => [
    row.scenario,
    ...COLUMNS.map(([key]) => String(row[key])),
    failed(row) ? 'FAIL' : 'ok',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    '| ' + cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ') + ' |';
  const rule = '| ' + widths.map((w) => '-'.repeat(w)).join(' | ') + ' |';
  const notes = rows.flatMap((row) => row.notes.map((note) => `- ${row.scenario}: ${note}`));
  return (
    [format(header), rule, ...lines.map(format), ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n'
  );
}

async function main(): Promise<void> {
  const program = new Command('chaos')
    .description(
      'the fault suite: real agents and runs on the embedded stack, through agent kills, pauses, duplicates and outages',
    )
    .option('--bounded', 'the short form the test suite runs (pause, thrice, 5 runs on 10 agents)')
    .option('--only <names>', `comma-separated scenarios: ${Object.keys(SCENARIOS).join(', ')}`)
    .option('--outage-sec <seconds>', 'how long the replies queue is unreachable', whole('--outage-sec'), 30)
    .option('--json', 'print the rows as JSON')
    .parse(process.argv);
  const flags = program.opts<{ bounded?: boolean; only?: string; outageSec: number; json?: boolean }>();
  const names = flags.only ? flags.only.split(',') : flags.bounded ? BOUNDED : Object.keys(SCENARIOS);
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')}`);
  const options: ScenarioOptions = {
    outageSec: flags.outageSec,
    endpointDownSec: 10,
    loadRuns: flags.bounded ? 5 : 20,
    loadAgents: flags.bounded ? 10 : 100,
  };
  const progress = (text: string) => process.stderr.write(text + '\n');
  const rows: Row[] = [];
  let errors = 0;
  const stack = await ChaosStack.start();
  const stop = () =>
    stack.stop().catch((e: unknown) => progress(`chaos: could not stop the stack: ${String(e)}`));
  process.once('SIGINT', () => void stop().finally(() => process.exit(130)));
  try {
    for (const name of names) {
      const started = Date.now();
      progress(`chaos: ${name}…`);
      try {
        rows.push(await SCENARIOS[name]!(stack, options));
      } catch (error: unknown) {
        errors++;
        progress(
          `chaos: ${name} could not complete: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      progress(`chaos: ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    await stop();
  }
  process.stdout.write(flags.json ? JSON.stringify({ rows, errors }, null, 2) + '\n' : formatTable(rows));
  if (errors > 0 || rows.some(failed)) process.exitCode = 1;
}

try {
  await main();
} catch (error: unknown) {
  process.stderr.write(`chaos: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
