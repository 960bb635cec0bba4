/**
 * The large-fleet knobs' checks (shared/large-fleet.ts): the ranges AWS documents for an SQS event
 * source's provisioned pollers and a table's warm throughput, and Plan's bounded widths. The
 * packaging test checks that `sls package` uses them; this one checks the edges.
 */
import { describe, expect, it } from 'vitest';
import {
  boundedCount,
  ingestPollers,
  LargeFleetConfigError,
  planWidths,
  warmThroughput,
  WRITES_IN_FLIGHT,
} from '#shared/large-fleet.ts';

describe('ingestPollers', () => {
  it('is off (standard mode) at 0, the default', () => {
    expect(ingestPollers('0', '0')).toBeUndefined();
  });

  it("takes a minimum of 2 to 200 and AWS's maximum of 200 unless one is given", () => {
    expect(ingestPollers('2', '0')).toEqual({ minimum: 2, maximum: 200 });
    expect(ingestPollers('200', '0')).toEqual({ minimum: 200, maximum: 200 });
    expect(ingestPollers('10', '2000')).toEqual({ minimum: 10, maximum: 2000 });
    expect(ingestPollers('10', '10')).toEqual({ minimum: 10, maximum: 10 });
  });

  it.each([
    ['1', '0', 'param ingestMinPollers "1" is outside 2–200'],
    ['201', '0', 'param ingestMinPollers "201" is outside 2–200'],
    ['10', '9', 'param ingestMaxPollers "9" must be between ingestMinPollers (10) and 2000'],
    ['10', '2001', 'param ingestMaxPollers "2001" must be between ingestMinPollers (10) and 2000'],
    ['0', '50', 'param ingestMaxPollers "50" needs ingestMinPollers'],
    ['ten', '0', 'param ingestMinPollers "ten" is not a whole number'],
    ['10', '-5', 'param ingestMaxPollers "-5" is not a whole number'],
    ['2.5', '0', 'param ingestMinPollers "2.5" is not a whole number'],
  ])('refuses min %s, max %s, naming the param and its range', (min, max, message) => {
    expect(() => ingestPollers(min, max)).toThrow(LargeFleetConfigError);
    expect(() => ingestPollers(min, max)).toThrow(message);
  });
});

describe('warmThroughput', () => {
  it('is off when both sides are 0', () => {
    expect(warmThroughput('runs', '0', '0')).toBeUndefined();
  });

  it('sets only the sides given, from what a new on-demand table already serves', () => {
    expect(warmThroughput('runs', '0', '40000')).toEqual({ writes: 40_000 });
    expect(warmThroughput('nodes', '12000', '0')).toEqual({ reads: 12_000 });
    expect(warmThroughput('runs', '100000', '4000')).toEqual({ reads: 100_000, writes: 4_000 });
  });

  it.each([
    ['11999', '0', 'param runsWarmReads "11999" is below 12,000 units a second'],
    ['0', '3999', 'param runsWarmWrites "3999" is below 4,000 units a second'],
    ['lots', '0', 'param runsWarmReads "lots" is not a whole number'],
  ])('refuses reads %s, writes %s', (reads, writes, message) => {
    expect(() => warmThroughput('runs', reads, writes)).toThrow(message);
  });
});

describe("Plan's widths", () => {
  it('default to 4 scan segments and 8 writes in flight', () => {
    expect(planWidths({})).toEqual({ scanSegments: 4, writesInFlight: 8 });
    expect(planWidths({ DROVER_SCAN_SEGMENTS: '', DROVER_WRITES_IN_FLIGHT: ' ' })).toEqual({
      scanSegments: 4,
      writesInFlight: 8,
    });
  });

  it('come from the environment serverless.yml sets from the stage params', () => {
    expect(planWidths({ DROVER_SCAN_SEGMENTS: '16', DROVER_WRITES_IN_FLIGHT: '32' })).toEqual({
      scanSegments: 16,
      writesInFlight: 32,
    });
  });

  it.each(['0', '33', '-1', '1.5', 'many'])('refuse %s: a whole number from 1 to 32', (text) => {
    expect(() => planWidths({ DROVER_SCAN_SEGMENTS: text })).toThrow(
      `DROVER_SCAN_SEGMENTS "${text}" must be a whole number from 1 to 32`,
    );
    expect(() => boundedCount('param planWritesInFlight', text, WRITES_IN_FLIGHT)).toThrow(
      `param planWritesInFlight "${text}" must be a whole number from 1 to 32`,
    );
  });
});

describe('dispatchGroupSize', () => {
  it('allows what Plan allows: 1 to the largest dispatch group, 500 by default', async () => {
    const { DISPATCH_GROUP_HOSTS } = await import('#shared/large-fleet.ts');
    const { DISPATCH_GROUP_SIZE } = await import('#functions/run/state.ts');
    const { dispatchGroupSize } = await import('#functions/run/dispatch-groups.ts');
    expect(DISPATCH_GROUP_HOSTS).toEqual({ standard: DISPATCH_GROUP_SIZE, ceiling: DISPATCH_GROUP_SIZE });
    expect(boundedCount('param dispatchGroupSize', '250', DISPATCH_GROUP_HOSTS)).toBe(250);
    expect(dispatchGroupSize({ DROVER_DISPATCH_GROUP_SIZE: '250' })).toBe(250);
    expect(boundedCount('param dispatchGroupSize', undefined, DISPATCH_GROUP_HOSTS)).toBe(500);
    expect(() => boundedCount('param dispatchGroupSize', '501', DISPATCH_GROUP_HOSTS)).toThrow(
      'param dispatchGroupSize "501" must be a whole number from 1 to 500',
    );
  });
});
