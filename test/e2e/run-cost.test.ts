/**
 * The price of a run on screen, end to end: the CLI as a child process against the local stack and
 * real agents. `drover run` and `drover show` end with the run's estimated cost, `--json` carries
 * the same figure the model gives for the run's recorded counts, and `drover runs --total-by` sums it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { META_SK, type RunMetaItem } from '#shared/runs-table.ts';
import { runDocumentSchema, runsDocumentSchema } from '#cli/output/schemas.ts';
import { estimateRunCost } from '#cli/cost/run-cost.ts';
import { runRecordCost } from '#cli/cost/run-totals.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { startFleet } from '../helpers/fleet.ts';

let t: TestStack;

const FLEET = [
  { identity: 'cost-1', facts: { role: 'web' }, classes: [] },
  { identity: 'cost-2', facts: { role: 'web' }, classes: [] },
  { identity: 'cost-3', facts: { role: 'db' }, classes: [] },
];

const run = (args: string[]) => droverCli(t.home, args);

async function metaOf(runId: string): Promise<RunMetaItem> {
  const out = await t.db.send(
    new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk: META_SK } }),
  );
  return out.Item as RunMetaItem;
}

beforeAll(async () => {
  t = await startTestStack();
  await startFleet(t, FLEET);
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('the estimated cost of a run', () => {
  it('--json carries the model figure for the recorded hosts, batches, output and duration', async () => {
    const r = await run(['run', 'head -c 3000 /dev/zero', '-F', 'role=web', '--json']);

    expect(r.code).toBe(0);
    const doc = runDocumentSchema.parse(JSON.parse(r.stdout));
    const meta = await metaOf(doc.runId);
    const expected = estimateRunCost({
      hosts: 2,
      batches: meta.batchCount,
      outputBytes: 6000,
      watchSeconds: (meta.finishedAt! - meta.startedAt!) / 1000,
    });
    expect(doc.estimatedCost).toMatchObject({ hosts: 2, pricesAsOf: expected.pricesAsOf });
    expect(doc.estimatedCost!.usd).toBeCloseTo(expected.usd, 6);
    expect(Object.keys(doc.estimatedCost!.byService)).toEqual(
      expect.arrayContaining(['SQS', 'DynamoDB', 'Step Functions', 'Lambda']),
    );
  });

  it('run and show end with the same cost line in text', async () => {
    const direct = await run(['run', 'true']);
    const latest = runsDocumentSchema.parse(
      JSON.parse((await run(['runs', '--limit', '1', '--json'])).stdout),
    );
    const shown = await run(['show', latest.runs[0]!.runId]);

    expect(direct.code).toBe(0);
    const last = direct.stdout.trimEnd().split('\n').at(-1);
    expect(last).toMatch(/^≈ \$0\.\d+ for 3 hosts \(estimated AWS cost; drover cost explains the model\)$/);
    expect(shown.stdout.trimEnd().split('\n').at(-1)).toBe(last);
  });

  it('drover runs lists each run with its cost and totals it by caller and by day', async () => {
    await run(['run', 'true', '-F', 'role=db']);
    const listed = runsDocumentSchema.parse(
      JSON.parse((await run(['runs', '--limit', '3', '--json'])).stdout),
    );
    const byCaller = runsDocumentSchema.parse(
      JSON.parse((await run(['runs', '--limit', '3', '--total-by', 'caller', '--json'])).stdout),
    );
    const byDay = await run(['runs', '--limit', '3', '--total-by', 'day']);
    const bySchedule = await run(['runs', '--limit', '3', '--total-by', 'schedule']);

    expect(listed.runs).toHaveLength(3);
    for (const r of listed.runs) {
      expect(r.estimatedUsd).toBeCloseTo(runRecordCost(await metaOf(r.runId)), 6);
    }
    const sum = listed.runs.reduce((s, r) => s + r.estimatedUsd, 0);
    expect(byCaller.totalBy).toBe('caller');
    expect(byCaller.totals).toEqual([
      { key: listed.runs[0]!.caller, runs: 3, hosts: 2 + 3 + 1, usd: expect.closeTo(sum, 5) as number },
    ]);
    const today = new Date(listed.runs[0]!.createdAt).toISOString().slice(0, 10);
    expect(byDay.stdout).toMatch(new RegExp(`^DAY\\s+RUNS\\s+HOSTS\\s+EST\\. COST\\n${today}\\s`));
    expect(byDay.stdout).toMatch(/\n\(all\)\s+3\s+6\s+\$0\.\d+\n/);
    expect(bySchedule.stdout).toMatch(/\n\(by hand\)\s+3\s+6\s+\$/);
  });

  it('refuses an unknown --total-by grouping, naming the choices', async () => {
    const r = await run(['runs', '--total-by', 'colour']);

    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/colour/);
    expect(r.stderr).toMatch(/caller, schedule, day|caller", "schedule", "day/);
  });
});
