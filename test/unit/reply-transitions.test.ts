import { describe, expect, it } from 'vitest';
import {
  NO_DELTAS,
  acceptedFrom,
  acksComplete,
  addDeltas,
  resultStatus,
  resultsComplete,
  transition,
} from '#functions/run/reply-transitions.ts';
import { ackReply, rejectedReply, resultReply } from '../helpers/factories.ts';

function batchCounters(
  overrides: Partial<{ expected: number; acked: number; rejected: number; unreachable: number }>,
) {
  return { expected: 3, acked: 0, rejected: 0, unreachable: 0, ...overrides };
}

describe('acceptedFrom', () => {
  it('lets an ack move only a pending node', () => {
    expect(acceptedFrom(ackReply())).toEqual(['pending']);
  });

  it('lets a rejection move only a pending node', () => {
    expect(acceptedFrom(rejectedReply())).toEqual(['pending']);
  });

  it('lets a result move an acked node first, then a pending one (result overtaking its ack)', () => {
    expect(acceptedFrom(resultReply())).toEqual(['acked', 'pending']);
  });
});

describe('resultStatus', () => {
  it('marks exit code 0 without error as succeeded', () => {
    expect(resultStatus(resultReply({ exitCode: 0 }))).toBe('succeeded');
  });

  it('marks a non-zero exit code as failed', () => {
    expect(resultStatus(resultReply({ exitCode: 3 }))).toBe('failed');
  });

  it('marks a process ended by a signal (no exit code) as failed', () => {
    expect(resultStatus(resultReply({ exitCode: null, signal: 'SIGTERM' }))).toBe('failed');
  });

  it('marks exit code 0 with an error as failed', () => {
    expect(resultStatus(resultReply({ exitCode: 0, error: 'output could not be read' }))).toBe('failed');
  });

  it('marks a command that could not start as failed', () => {
    expect(resultStatus(resultReply({ exitCode: null, error: 'spawn /bin/sh ENOENT' }))).toBe('failed');
  });

  it('marks a timed out command as timed_out whatever its exit code', () => {
    expect(resultStatus(resultReply({ timedOut: true, exitCode: 0 }))).toBe('timed_out');
    expect(resultStatus(resultReply({ timedOut: true, exitCode: null, signal: 'SIGKILL' }))).toBe(
      'timed_out',
    );
  });
});

describe('transition', () => {
  it('moves a pending node to acked and counts one ack', () => {
    expect(transition('pending', ackReply())).toEqual({
      status: 'acked',
      deltas: { acked: 1, rejected: 0, done: 0 },
    });
  });

  it('moves a pending node to rejected and counts one rejection, not an ack', () => {
    expect(transition('pending', rejectedReply())).toEqual({
      status: 'rejected',
      deltas: { acked: 0, rejected: 1, done: 0 },
    });
  });

  it('counts a result after its ack as done only', () => {
    expect(transition('acked', resultReply())).toEqual({
      status: 'succeeded',
      deltas: { acked: 0, rejected: 0, done: 1 },
    });
  });

  it('counts a result that overtook its ack as both the ack and done', () => {
    expect(transition('pending', resultReply({ exitCode: 1 }))).toEqual({
      status: 'failed',
      deltas: { acked: 1, rejected: 0, done: 1 },
    });
  });

  it('gives a timed out result the timed_out status', () => {
    expect(transition('acked', resultReply({ timedOut: true, exitCode: null })).status).toBe('timed_out');
  });

  it('gives a result with an error the failed status', () => {
    expect(transition('acked', resultReply({ error: 'killed by the agent shutting down' })).status).toBe(
      'failed',
    );
  });
});

describe('addDeltas', () => {
  it('adds each counter', () => {
    expect(addDeltas({ acked: 1, rejected: 0, done: 2 }, { acked: 3, rejected: 1, done: 0 })).toEqual({
      acked: 4,
      rejected: 1,
      done: 2,
    });
  });

  it('does not change NO_DELTAS', () => {
    addDeltas(NO_DELTAS, { acked: 1, rejected: 1, done: 1 });

    expect(NO_DELTAS).toEqual({ acked: 0, rejected: 0, done: 0 });
  });
});

describe('acksComplete', () => {
  it('is false while some expected host has not answered', () => {
    expect(acksComplete(batchCounters({ expected: 3, acked: 2 }))).toBe(false);
  });

  it('is true when every expected host acked', () => {
    expect(acksComplete(batchCounters({ expected: 3, acked: 3 }))).toBe(true);
  });

  it('counts rejections and unreachable hosts as answers', () => {
    expect(acksComplete(batchCounters({ expected: 3, acked: 1, rejected: 1, unreachable: 1 }))).toBe(true);
    expect(acksComplete(batchCounters({ expected: 3, acked: 1, rejected: 1 }))).toBe(false);
  });

  it('is true for an empty batch', () => {
    expect(acksComplete(batchCounters({ expected: 0 }))).toBe(true);
  });
});

describe('resultsComplete', () => {
  it('is false while an acknowledged host has not sent its result', () => {
    expect(resultsComplete({ acked: 2, done: 1 })).toBe(false);
  });

  it('is true when every acknowledged host sent its result', () => {
    expect(resultsComplete({ acked: 2, done: 2 })).toBe(true);
  });

  it('is true when no host acknowledged (every one rejected or silent)', () => {
    expect(resultsComplete({ acked: 0, done: 0 })).toBe(true);
  });
});
