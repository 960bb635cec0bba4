import { describe, expect, it } from 'vitest';
import { EXIT, percentile, runExitCode, summarize } from '#functions/run/summary.ts';
import { nodeRunItem, runSummary } from '../helpers/factories.ts';

/** A node that answered nothing: planned and sent, then given up on. */
function silentNode(nodeId: string) {
  return nodeRunItem({
    nodeId,
    identity: nodeId,
    status: 'no_response',
    exitCode: undefined,
    startedAt: undefined,
    endedAt: undefined,
    ackedAt: undefined,
    resultAt: undefined,
  });
}

describe('summarize', () => {
  it('counts hosts by status', () => {
    // Prepare
    const nodes = [
      nodeRunItem({ nodeId: 'a', status: 'succeeded' }),
      nodeRunItem({ nodeId: 'b', status: 'succeeded' }),
      nodeRunItem({ nodeId: 'c', status: 'failed', exitCode: 1 }),
      nodeRunItem({ nodeId: 'd', status: 'timed_out', exitCode: null }),
      silentNode('e'),
      nodeRunItem({ nodeId: 'f', status: 'rejected', exitCode: undefined, ackedAt: undefined }),
      nodeRunItem({ nodeId: 'g', status: 'unreachable', exitCode: undefined }),
      nodeRunItem({ nodeId: 'h', status: 'skipped', exitCode: undefined }),
      nodeRunItem({ nodeId: 'i', status: 'cancelled', exitCode: undefined }),
      nodeRunItem({ nodeId: 'j', status: 'late' }),
    ];

    // Act
    const summary = summarize(nodes);

    // Assess
    expect(summary).toMatchObject({
      expected: 10,
      succeeded: 2,
      failed: 1,
      timedOut: 1,
      noResponse: 1,
      rejected: 1,
      unreachable: 1,
      skipped: 1,
      cancelled: 1,
      late: 1,
    });
  });

  it('counts as discovered the hosts that acknowledged or answered', () => {
    const nodes = [
      nodeRunItem({ nodeId: 'acked-only', status: 'acked', resultAt: undefined }),
      nodeRunItem({ nodeId: 'rejected', status: 'rejected', ackedAt: undefined, resultAt: 5 }),
      nodeRunItem({ nodeId: 'overtaken', status: 'succeeded', ackedAt: undefined, resultAt: 5 }),
      silentNode('silent'),
    ];

    expect(summarize(nodes).discovered).toBe(3);
  });

  it('builds a histogram of exit codes, leaving out hosts without one', () => {
    const nodes = [
      nodeRunItem({ nodeId: 'a', exitCode: 0 }),
      nodeRunItem({ nodeId: 'b', exitCode: 0 }),
      nodeRunItem({ nodeId: 'c', status: 'failed', exitCode: 2 }),
      nodeRunItem({ nodeId: 'd', status: 'failed', exitCode: null, signal: 'SIGKILL' }),
      silentNode('e'),
    ];

    expect(summarize(nodes).exitCodes).toEqual({ '0': 2, '2': 1 });
  });

  it('reports p50, p95 and max of command durations', () => {
    // Prepare: durations 10, 20, ..., 200 ms, in no particular order.
    const nodes = [7, 3, 20, 1, 15, 9, 12, 5, 18, 2, 11, 4, 16, 8, 19, 6, 14, 10, 17, 13].map((n) =>
      nodeRunItem({ nodeId: `n${n}`, startedAt: 1_000, endedAt: 1_000 + n * 10 }),
    );

    // Act
    const { durationMs } = summarize(nodes);

    // Assess
    expect(durationMs).toEqual({ p50: 100, p95: 190, max: 200 });
  });

  it('reports no durations when no host ran the command', () => {
    expect(summarize([silentNode('a'), silentNode('b')]).durationMs).toBeNull();
  });

  it('carries the reason the run stopped early', () => {
    const summary = summarize([nodeRunItem()], 'stopped after 3 errors (--max-errors 2)');

    expect(summary.stoppedEarly).toBe('stopped after 3 errors (--max-errors 2)');
  });

  it('leaves stoppedEarly out when the run did not stop early', () => {
    expect(summarize([nodeRunItem()])).not.toHaveProperty('stoppedEarly');
  });

  it('gives the run the exit code of its outcome', () => {
    expect(
      summarize([nodeRunItem(), nodeRunItem({ nodeId: 'b', status: 'failed', exitCode: 1 })]).exitCode,
    ).toBe(EXIT.commandFailed);
  });

  it('gives an empty run the "nothing matched" exit code', () => {
    expect(summarize([])).toMatchObject({ expected: 0, exitCode: EXIT.noMatch, durationMs: null });
  });
});

describe('percentile', () => {
  it('is the nearest-rank value of a sorted list', () => {
    const sorted = [10, 20, 30, 40];

    expect(percentile(sorted, 50)).toBe(20);
    expect(percentile(sorted, 95)).toBe(40);
    expect(percentile(sorted, 0)).toBe(10);
    expect(percentile(sorted, 100)).toBe(40);
  });

  it('is 0 for an empty list', () => {
    expect(percentile([], 50)).toBe(0);
  });
});

describe('runExitCode', () => {
  it('is 0 when every host succeeded', () => {
    expect(runExitCode(runSummary({ expected: 3, succeeded: 3 }))).toBe(0);
  });

  it('is 1 when nothing matched the filter', () => {
    expect(runExitCode(runSummary({ expected: 0, succeeded: 0 }))).toBe(1);
  });

  it('is 2 when a command failed', () => {
    expect(runExitCode(runSummary({ expected: 3, succeeded: 2, failed: 1 }))).toBe(2);
  });

  it.each([
    ['did not respond', { noResponse: 1 }],
    ['timed out', { timedOut: 1 }],
    ['was unreachable', { unreachable: 1 }],
    ['answered late', { late: 1 }],
    ['was skipped', { skipped: 1 }],
    ['was cancelled', { cancelled: 1 }],
  ])('is 3 when a host %s, even if another command failed', (_, counts) => {
    expect(runExitCode(runSummary({ expected: 3, succeeded: 1, failed: 1, ...counts }))).toBe(3);
  });

  it('is 4 when a host rejected the request, whatever else happened', () => {
    expect(
      runExitCode(
        runSummary({ expected: 4, succeeded: 0, failed: 1, noResponse: 1, timedOut: 1, rejected: 1 }),
      ),
    ).toBe(4);
  });
});
