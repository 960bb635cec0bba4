import { describe, expect, it } from 'vitest';
import {
  acceptedFrom,
  acksComplete,
  groupFinished,
  sumCounts,
  tallyCounts,
  unanswered,
  type BatchCounts,
  markersFor,
  resultStatus,
  resultsComplete,
  statusAfter,
} from '#functions/run/reply-transitions.ts';
import { ackReply, rejectedReply, resultReply } from '../helpers/factories.ts';

function batchCounters(overrides: Partial<BatchCounts>): BatchCounts {
  return { expected: 3, acked: 0, rejected: 0, done: 0, unreachable: 0, ...overrides };
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

describe('statusAfter', () => {
  it('moves a node to acked on an ack, rejected on a rejection, its outcome on a result', () => {
    expect(statusAfter(ackReply())).toBe('acked');
    expect(statusAfter(rejectedReply())).toBe('rejected');
    expect(statusAfter(resultReply({ exitCode: 1 }))).toBe('failed');
    expect(statusAfter(resultReply({ timedOut: true, exitCode: null }))).toBe('timed_out');
    expect(statusAfter(resultReply({ error: 'killed by the agent shutting down' }))).toBe('failed');
  });
});

describe('markersFor', () => {
  it('counts an acked node as an ack only', () => {
    expect(markersFor({ status: 'acked' })).toEqual(['ackedBy']);
  });

  it('counts a rejected node as rejected, not as an ack', () => {
    expect(markersFor({ status: 'rejected' })).toEqual(['rejectedBy']);
  });

  it('counts every result status as the ack it implies and done', () => {
    for (const status of ['succeeded', 'failed', 'timed_out', 'cancelled'] as const) {
      expect(markersFor({ status })).toEqual(['ackedBy', 'doneBy']);
    }
  });

  it('counts an unreachable inbox as an answer to the acknowledgement wait', () => {
    expect(markersFor({ status: 'unreachable', closed: true })).toEqual(['unreachableBy']);
  });

  it('counts nothing for a node still waiting or one the batch gave up on', () => {
    expect(markersFor({ status: 'pending' })).toEqual([]);
    expect(markersFor({ status: 'timed_out', closed: true })).toEqual([]);
    expect(markersFor({ status: 'no_response', closed: true })).toEqual([]);
    expect(markersFor({ status: 'late', closed: true })).toEqual([]);
    expect(markersFor({ status: 'skipped' })).toEqual([]);
  });
});

describe('tallyCounts', () => {
  it('counts the members of each marker set, absent sets as zero', () => {
    expect(
      tallyCounts({
        expected: 4,
        ackedBy: new Set(['a', 'b']),
        doneBy: new Set(['a']),
        rejectedBy: undefined,
      }),
    ).toEqual({ expected: 4, acked: 2, rejected: 0, done: 1, unreachable: 0 });
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

describe('groupFinished', () => {
  it('needs every host answered and every acknowledged host reported', () => {
    expect(groupFinished(batchCounters({ expected: 3, acked: 2, done: 2 }))).toBe(false);
    expect(groupFinished(batchCounters({ expected: 3, acked: 2, done: 1, rejected: 1 }))).toBe(false);
    expect(groupFinished(batchCounters({ expected: 3, acked: 2, done: 2, unreachable: 1 }))).toBe(true);
  });
});

describe('unanswered and sumCounts', () => {
  it('owes an answer for every host neither reported, rejected nor unreachable', () => {
    expect(unanswered(batchCounters({ expected: 5, acked: 3, done: 1, rejected: 1 }))).toBe(3);
    expect(unanswered(batchCounters({ expected: 2, acked: 2, done: 2 }))).toBe(0);
  });

  it('adds up the counts of several groups', () => {
    expect(
      sumCounts([
        batchCounters({ expected: 2, acked: 1 }),
        batchCounters({ expected: 3, done: 1, acked: 1 }),
      ]),
    ).toEqual({ expected: 5, acked: 2, rejected: 0, done: 1, unreachable: 0 });
  });
});
