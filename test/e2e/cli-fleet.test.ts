/**
 * The fleet commands end to end: `find`, `facts`, `inventory` (read the facts table), `ping` (a
 * run that executes nothing), `runs` (history), `cost` and `schema` (no AWS call), against the
 * local stack with real agents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  costDocumentSchema,
  factsDocumentSchema,
  findDocumentSchema,
  inventoryDocumentSchema,
  jsonSchemaOf,
  pingDocumentSchema,
  runsDocumentSchema,
} from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, droverPipeline, stopCliProcesses } from '../helpers/cli.ts';
import { addSilentHost, addStaleHost, startFleet } from '../helpers/fleet.ts';
import { PRICES_AS_OF } from '#cli/cost/parameters.ts';

let t: TestStack;

const FLEET = [
  { identity: 'web-1', facts: { role: 'web', os: { family: 'Debian' } }, classes: ['nginx'] },
  { identity: 'web-2', facts: { role: 'web', os: { family: 'RedHat' } }, classes: ['nginx'] },
  { identity: 'db-1', facts: { role: 'db', os: { family: 'Debian' } }, classes: ['postgresql'] },
];

const cli = (args: string[]) => droverCli(t.home, args);
const json = <T>(schema: { parse(value: unknown): T }, stdout: string): T => schema.parse(JSON.parse(stdout));

beforeAll(async () => {
  t = await startTestStack();
  await startFleet(t, FLEET);
  // A host that is recorded as alive but never answers, and one silent for an hour.
  await addSilentHost(t, 'mute-1', { role: 'cache' });
  await addStaleHost(t, 'old-1', { role: 'web' });
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('drover find', () => {
  it('lists the matching hosts one per line with their last heartbeat, and sends nothing', async () => {
    const [web, none] = await Promise.all([
      cli(['find', '-F', 'role=web']),
      cli(['find', '-C', 'no-such-class']),
    ]);

    expect(web.code).toBe(0);
    expect(web.stdout).toMatch(/^web-1 +last seen \d+(ms|s) ago\nweb-2 +last seen \d+(ms|s) ago\n$/);
    expect(web.stderr).toBe('2 hosts matched, from the facts table (nothing was sent).\n');
    expect(none.code).toBe(1);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('No hosts matched the filter.\n');
  });

  it('includes stale hosts only when asked, marked stale, in JSON valid against its schema', async () => {
    const r = await cli(['find', '-F', 'role=web', '--include-stale', '--json']);

    expect(r.code).toBe(0);
    const doc = json(findDocumentSchema, r.stdout);
    expect(doc.hosts.map((h) => [h.identity, h.stale])).toEqual([
      ['old-1', true],
      ['web-1', false],
      ['web-2', false],
    ]);
  });

  it('feeds drover run through a pipe', async () => {
    const r = await droverPipeline(t.home, `{drover} find -C nginx | {drover} run 'echo via find' --nodes -`);

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('>>>>>> web-1 exit code: (0):\nvia find\n');
    expect(r.stdout).toContain('Got response from 2 out of 2/2');
  });
});

describe('drover facts', () => {
  it('reports each value with its count and hosts, and the hosts without the fact', async () => {
    const r = await cli(['facts', 'os.family']);

    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      'Report for fact: os.family\n\n' +
        '  Debian     found 2 times  db-1, web-1\n' +
        '  RedHat     found 1 time   web-2\n' +
        '  (missing)  on 1 host      mute-1\n\n' +
        'Finished processing 4 hosts\n',
    );
  });

  it('applies the filters and prints JSON valid against its schema', async () => {
    const [r, missing] = await Promise.all([
      cli(['facts', 'role', '-C', 'nginx', '--json']),
      cli(['facts', 'no_such_fact']),
    ]);

    expect(json(factsDocumentSchema, r.stdout)).toMatchObject({
      fact: 'role',
      hosts: 2,
      values: [{ value: 'web', text: 'web', count: 2, hosts: ['web-1', 'web-2'] }],
      missing: [],
    });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No host has the fact "no_such_fact"');
  });
});

describe('drover inventory', () => {
  it('shows the facts, classes, agent version and last heartbeat of a host', async () => {
    const [text, doc, unknown] = await Promise.all([
      cli(['inventory', 'web-1']),
      cli(['inventory', 'web-2', '--json']),
      cli(['inventory', 'web-9']),
    ]);

    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Inventory for web-1:\n/);
    expect(text.stdout).toMatch(/Agent version: {2}\S+\n/);
    expect(text.stdout).toMatch(/Last seen: {6}\d{4}-\d\d-\d\dT[\d:.]+Z \(\d+(ms|s) ago\), fresh\n/);
    expect(text.stdout).toContain('   Classes:\n      nginx\n');
    expect(text.stdout).toContain('      os:\n        family: Debian\n');
    expect(text.stdout).toContain('      role: web\n');
    expect(json(inventoryDocumentSchema, doc.stdout)).toMatchObject({
      identity: 'web-2',
      classes: ['nginx'],
      stale: false,
      facts: { role: 'web', os: { family: 'RedHat' } },
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'drover: no host "web-9" in the facts table of stage local (drover find lists them)\n',
    );
  });
});

describe('drover ping', () => {
  it('prints each host with its round-trip time, then statistics, a latency sparkline and the cost', async () => {
    const r = await cli(['ping', '-F', 'role=web']);

    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => /^web-\d +time=\d+ ms$/.test(l))).toHaveLength(2);
    expect(r.stdout).toMatch(
      /\n---- ping statistics ----\n2 replies max: \d+ ms min: \d+ ms avg: \d+ ms p95: \d+ ms\n[▁▂▃▄▅▆▇█ ]+ \d+–\d+ ms\n≈ \$0\.\d+ for 2 hosts \(estimated AWS cost; drover cost explains the model\)\n$/,
    );
  });

  it('lists hosts that did not answer and exits 3; --json is valid against its schema', async () => {
    const r = await cli(['ping', '-S', 'role=cache or role=db', '--dt', '2', '--json']);

    expect(r.code).toBe(3);
    const doc = json(pingDocumentSchema, r.stdout);
    expect(doc.replies.map((h) => h.identity)).toEqual(['db-1']);
    expect(doc.replies[0]!.rttMs).toBeGreaterThanOrEqual(0);
    expect(doc.noResponse).toEqual(['mute-1']);
    expect(doc.stats).toMatchObject({ count: 1 });
  });
});

describe('drover runs', () => {
  it('lists recent runs newest first with caller, status, counts, command and filter', async () => {
    await cli(['run', 'echo listed', '-F', 'role=db']);

    const [text, doc, nobody] = await Promise.all([
      cli(['runs', '--limit', '2']),
      cli(['runs', '--json']),
      cli(['runs', '--caller', 'nobody@nowhere']),
    ]);

    expect(text.code).toBe(0);
    const [header, newest, older] = text.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^RUN ID +WHEN +CALLER +STATUS +HOSTS +OK +FAILED +OTHER +COMMAND +FILTER$/);
    expect(newest).toMatch(
      /^[0-9A-Z]{26} +\d+(ms|s) ago +\S+@\S+ +succeeded +1 +1 +0 +0 +echo listed +role=db$/,
    );
    expect(older).toMatch(/^[0-9A-Z]{26} .* failed +2 +1 +0 +1 +\(ping\) +role=cache or role=db$/);
    const runs = json(runsDocumentSchema, doc.stdout).runs;
    expect(runs[0]).toMatchObject({ command: { shell: 'echo listed' }, status: 'succeeded', expected: 1 });
    expect(runs.map((r) => r.createdAt)).toEqual([...runs.map((r) => r.createdAt)].sort((a, b) => b - a));
    expect(nobody.code).toBe(1);
  });
});

describe('drover cost', () => {
  it('prints every assumption and price with its flag, the lines by service and the total', async () => {
    const r = await cli(['cost', '--hosts', '500']);

    expect(r.code).toBe(0);
    for (const flag of [
      '--hosts',
      '--poll-seconds',
      '--heartbeat-seconds',
      '--runs-per-day',
      '--hosts-per-run',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${flag} +\\S`, 'm'));
    }
    expect(r.stdout).toContain(`us-east-1 list prices as of ${PRICES_AS_OF}`);
    expect(r.stdout).toMatch(/^ {2}--price-sqs-per-million +0\.4 USD/m);
    expect(r.stdout).toMatch(
      /^ {2}SQS +agent long polls \(empty receives, worst case\) +64,800,000 +requests +25\.92$/m,
    );
    expect(r.stdout).toMatch(/^Total: \d+\.\d\d USD per month$/m);
  });

  it('takes overrides, prints JSON valid against its schema, and refuses impossible inputs', async () => {
    const [base, cheaper, bad] = await Promise.all([
      cli(['cost', '--json']),
      cli(['cost', '--json', '--price-sqs-per-million', '0']),
      cli(['cost', '--hosts', '10', '--hosts-per-run', '20']),
    ]);

    const a = json(costDocumentSchema, base.stdout);
    const b = json(costDocumentSchema, cheaper.stdout);
    expect(b.byService.SQS).toBe(0);
    expect(b.totalMonthlyUsd).toBeCloseTo(a.totalMonthlyUsd - a.byService.SQS!, 3);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toBe('drover: --hosts-per-run (20) cannot exceed --hosts (10)\n');
  });
});

describe('drover schema', () => {
  it('prints the JSON Schema of an output, the one the tests validate against', async () => {
    const [list, run] = await Promise.all([cli(['schema']), cli(['schema', 'run'])]);

    expect(list.stdout.split('\n')).toContain('run-jsonl');
    expect(JSON.parse(run.stdout)).toEqual(jsonSchemaOf('run'));
  });
});
