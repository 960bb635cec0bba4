/**
 * The large-fleet params of serverless.yml (docs/deploy.md "Large fleets"): off by default, so a
 * small fleet's template has no provisioned pollers and no warm throughput; on, the CloudFormation
 * properties AWS documents (ProvisionedPollerConfig on ingest's event source mapping, WarmThroughput
 * on the tables and the runs table's index) and Plan's widths in its environment; out of range,
 * refused before anything is built.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resource, resourcesOfType, type CfnTemplate } from '../helpers/cloudformation.ts';
import { packageService, REPO_ROOT, type PackagedService } from '../helpers/sls-package.ts';

const STAGE = 'ci';
const NO_VALUE = { Ref: 'AWS::NoValue' };
const MAPPING = 'IngestEventSourceMappingSQSRepliesQueue';

const planEnv = (template: CfnTemplate) =>
  (resource(template, 'PlanLambdaFunction').Properties.Environment as { Variables: Record<string, unknown> })
    .Variables;
const runsIndex = (template: CfnTemplate) =>
  (resource(template, 'RunsTable').Properties.GlobalSecondaryIndexes as Record<string, unknown>[])[0]!;

describe(`sls package --stage ${STAGE} (large-fleet params off, the default)`, () => {
  let packaged: PackagedService | undefined;
  let template: CfnTemplate;

  beforeAll(async () => {
    packaged = await packageService(STAGE);
    template = packaged.template;
  }, 240_000);

  afterAll(() => packaged?.remove());

  it('extends the one event source mapping the framework generates: ingest on the replies queue', () => {
    expect(resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([id]) => id)).toEqual([MAPPING]);
  });

  it('leaves ingest in standard mode: no provisioned pollers, no charge for them', () => {
    expect(resource(template, MAPPING).Properties.ProvisionedPollerConfig).toEqual(NO_VALUE);
  });

  it.each(['NodesTable', 'RunsTable'])('does not pre-warm %s', (id) => {
    expect(resource(template, id).Properties.WarmThroughput).toEqual(NO_VALUE);
  });

  it("does not pre-warm the runs table's index", () => {
    expect(runsIndex(template).WarmThroughput).toEqual(NO_VALUE);
  });

  it('gives Plan 4 scan segments, 8 writes in flight and dispatch groups of 500', () => {
    expect(planEnv(template)).toMatchObject({
      DROVER_SCAN_SEGMENTS: '4',
      DROVER_WRITES_IN_FLIGHT: '8',
      DROVER_DISPATCH_GROUP_SIZE: '500',
    });
  });
});

describe(`sls package --stage ${STAGE} with every large-fleet param set`, () => {
  let packaged: PackagedService | undefined;
  let template: CfnTemplate;

  beforeAll(async () => {
    packaged = await packageService(STAGE, [
      '--param=ingestMinPollers=20',
      '--param=ingestMaxPollers=400',
      '--param=runsWarmReads=20000',
      '--param=runsWarmWrites=40000',
      '--param=nodesWarmReads=40000',
      '--param=planScanSegments=16',
      '--param=planWritesInFlight=32',
      '--param=dispatchGroupSize=250',
    ]);
    template = packaged.template;
  }, 240_000);

  afterAll(() => packaged?.remove());

  it("puts ingest's event source in provisioned mode with the pollers given", () => {
    expect(resource(template, MAPPING).Properties).toMatchObject({
      ProvisionedPollerConfig: { MinimumPollers: 20, MaximumPollers: 400 },
      // Provisioned mode and MaximumConcurrency are mutually exclusive (Lambda developer guide).
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(resource(template, MAPPING).Properties.ScalingConfig).toBeUndefined();
  });

  it('pre-warms the runs table for reads and writes, and its index for the writes', () => {
    expect(resource(template, 'RunsTable').Properties.WarmThroughput).toEqual({
      ReadUnitsPerSecond: 20_000,
      WriteUnitsPerSecond: 40_000,
    });
    expect(runsIndex(template).WarmThroughput).toEqual({ WriteUnitsPerSecond: 40_000 });
  });

  it('pre-warms only the side of the nodes table given (its reads, for Plan’s scan)', () => {
    expect(resource(template, 'NodesTable').Properties.WarmThroughput).toEqual({
      ReadUnitsPerSecond: 40_000,
    });
  });

  it('keeps the tables on demand', () => {
    for (const id of ['NodesTable', 'RunsTable']) {
      expect(resource(template, id).Properties.BillingMode).toBe('PAY_PER_REQUEST');
    }
  });

  it("widens Plan's scan and writes, in its environment only", () => {
    expect(planEnv(template)).toMatchObject({
      DROVER_SCAN_SEGMENTS: '16',
      DROVER_WRITES_IN_FLIGHT: '32',
      DROVER_DISPATCH_GROUP_SIZE: '250',
    });
    const ingestEnv = (
      resource(template, 'IngestLambdaFunction').Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(ingestEnv.DROVER_SCAN_SEGMENTS).toBeUndefined();
  });

  it("takes AWS's 200 as the maximum when only the minimum is given", async () => {
    const minimumOnly = await packageService(STAGE, ['--param=ingestMinPollers=5']);
    try {
      expect(resource(minimumOnly.template, MAPPING).Properties.ProvisionedPollerConfig).toEqual({
        MinimumPollers: 5,
        MaximumPollers: 200,
      });
    } finally {
      minimumOnly.remove();
    }
  }, 240_000);
});

describe('large-fleet params refused before anything is built', () => {
  it.each([
    ['ingestMinPollers=1', 'param ingestMinPollers "1" is outside 2–200'],
    ['ingestMinPollers=201', 'param ingestMinPollers "201" is outside 2–200'],
    ['ingestMaxPollers=50', 'param ingestMaxPollers "50" needs ingestMinPollers'],
    ['runsWarmWrites=1000', 'param runsWarmWrites "1000" is below 4,000 units a second'],
    ['nodesWarmReads=5000', 'param nodesWarmReads "5000" is below 12,000 units a second'],
    ['planScanSegments=64', 'param planScanSegments "64" must be a whole number from 1 to 32'],
    ['planWritesInFlight=0', 'param planWritesInFlight "0" must be a whole number from 1 to 32'],
    ['dispatchGroupSize=501', 'param dispatchGroupSize "501" must be a whole number from 1 to 500'],
  ])(
    'refuses %s',
    async (param, message) => {
      await expect(packageService(STAGE, [`--param=${param}`])).rejects.toThrow(message);
    },
    120_000,
  );

  it('refuses a maximum below the minimum', async () => {
    await expect(
      packageService(STAGE, ['--param=ingestMinPollers=50', '--param=ingestMaxPollers=10']),
    ).rejects.toThrow('param ingestMaxPollers "10" must be between ingestMinPollers (50) and 2000');
  }, 120_000);
});

describe('docs/deploy.md "Large fleets"', () => {
  it('lists each large-fleet param serverless.yml declares, with its default', () => {
    const yml = parse(readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8')) as {
      params: { default: Record<string, string> };
    };
    const docs = readFileSync(join(REPO_ROOT, 'docs/deploy.md'), 'utf8');
    const section = docs.slice(docs.indexOf('\n## Large fleets\n'), docs.indexOf('\n## Troubleshooting'));
    const names = ['ingest', 'runsWarm', 'nodesWarm', 'plan', 'dispatchGroupSize'];
    const declared = Object.entries(yml.params.default).filter(([name]) =>
      names.some((n) => name.startsWith(n)),
    );

    expect(declared).toHaveLength(9);
    for (const [name, value] of declared) {
      expect(section, name).toMatch(new RegExp(`\\| \`${name}\`\\s+\\| \`${value}\`\\s+\\|`));
    }
  });
});
