import { describe, expect, it } from 'vitest';
import { durationSparkline, hostBlock, summaryText } from '#cli/output/text.ts';
import { hostJson, runJson } from '#cli/output/json.ts';
import { summarize } from '#functions/run/summary.ts';
import type { NodeRunItem } from '#shared/runs-table.ts';
import { nodeRunItem, runMetaItem } from '../helpers/factories.ts';

const plain = { color: false };

/** A host the run gave up on without any answer. */
function silentHost(identity: string): NodeRunItem {
  return nodeRunItem({
    nodeId: identity,
    identity,
    status: 'no_response',
    exitCode: undefined,
    startedAt: undefined,
    endedAt: undefined,
    ackedAt: undefined,
    resultAt: undefined,
    closed: true,
  });
}

/** A host that acknowledged and then never sent its result. */
function timedOutHost(identity: string): NodeRunItem {
  return nodeRunItem({
    nodeId: identity,
    identity,
    status: 'timed_out',
    exitCode: undefined,
    startedAt: undefined,
    endedAt: undefined,
    resultAt: undefined,
    closed: true,
  });
}

describe('hostBlock', () => {
  it('prints the exit code and output of a host that succeeded', () => {
    const node = nodeRunItem({ stdout: { text: ' 10:00 up 3 days\n', bytes: 17, truncated: false } });

    expect(hostBlock(node, plain)).toBe('>>>>>> web-1 exit code: (0):\n 10:00 up 3 days\n');
  });

  it('prints only the head line when the command printed nothing', () => {
    const node = nodeRunItem({ stdout: { text: '', bytes: 0, truncated: false } });

    expect(hostBlock(node, plain)).toBe('>>>>>> web-1 exit code: (0):\n');
  });

  it('prints stdout then stderr of a host whose command failed', () => {
    const node = nodeRunItem({
      status: 'failed',
      exitCode: 2,
      stdout: { text: 'checking\n', bytes: 9, truncated: false },
      stderr: { text: 'disk full\n', bytes: 10, truncated: false },
    });

    expect(hostBlock(node, plain)).toBe('>>>>>> web-1 exit code: (2):\nchecking\ndisk full\n');
  });

  it('prints a dash for the exit code of a command killed at its timeout, and says so', () => {
    const node = nodeRunItem({
      status: 'timed_out',
      exitCode: null,
      signal: 'SIGKILL',
      timedOut: true,
      stdout: { text: 'working...\n', bytes: 11, truncated: false },
      error: 'killed after 10 s',
    });

    expect(hostBlock(node, plain)).toBe(
      '>>>>>> web-1 exit code: (-):\nworking...\n[killed: the command outlived its timeout]\n',
    );
  });

  it('prints nothing for a host that acknowledged but never sent a result', () => {
    expect(hostBlock(timedOutHost('web-1'), plain)).toBeUndefined();
  });

  it('prints the reason a host rejected the request', () => {
    const node = nodeRunItem({
      status: 'rejected',
      exitCode: undefined,
      reason: 'facts no longer match the filter',
    });

    expect(hostBlock(node, plain)).toBe(
      '>>>>>> web-1 rejected the request:\nfacts no longer match the filter\n',
    );
  });

  it('prints why a host could not be reached', () => {
    const node = nodeRunItem({ status: 'unreachable', exitCode: undefined, error: 'QueueDoesNotExist' });

    expect(hostBlock(node, plain)).toBe('>>>>>> web-1 could not be reached:\nQueueDoesNotExist\n');
  });

  it('notes each truncated stream with its full size', () => {
    // Prepare: 20 bytes kept out of 1 MB of stdout and 8 kept out of 70000 of stderr.
    const node = nodeRunItem({
      stdout: { text: 'head...\n...tail-end\n', bytes: 1_048_576, truncated: true },
      stderr: { text: 'warn…\n', bytes: 70_000, truncated: true },
    });

    // Act
    const block = hostBlock(node, plain);

    // Assess
    expect(block).toBe(
      '>>>>>> web-1 exit code: (0):\n' +
        'head...\n...tail-end\n' +
        'warn…\n' +
        '[stdout truncated: 1048576 bytes, first and last 10 or so kept]\n' +
        '[stderr truncated: 70000 bytes, first and last 4 or so kept]\n',
    );
  });

  it('prints the error of a command that could not run', () => {
    const node = nodeRunItem({
      status: 'failed',
      exitCode: null,
      stdout: { text: '', bytes: 0, truncated: false },
      error: 'spawn /bin/sh ENOENT',
    });

    expect(hostBlock(node, plain)).toBe('>>>>>> web-1 exit code: (-):\n[spawn /bin/sh ENOENT]\n');
  });

  it('marks a result that arrived after the run gave up on the host', () => {
    const node = nodeRunItem({
      status: 'late',
      closed: true,
      stdout: { text: 'ok\n', bytes: 3, truncated: false },
    });

    expect(hostBlock(node, plain)).toBe(
      '>>>>>> web-1 exit code: (0):\nok\n[late: arrived after the run gave up on this host]\n',
    );
  });

  it.each(['no_response', 'skipped', 'pending', 'acked'] as const)(
    'prints nothing for a %s host (the summary lists it)',
    (status) => {
      expect(hostBlock(nodeRunItem({ status, resultAt: undefined }), plain)).toBeUndefined();
    },
  );
});

describe('summaryText', () => {
  it('counts responses, lists silent and timed out hosts sorted, and reports durations', () => {
    // Prepare
    const nodes = [
      nodeRunItem({
        nodeId: 'web-2',
        identity: 'web-2',
        status: 'failed',
        exitCode: 1,
        startedAt: 100,
        endedAt: 250,
      }),
      silentHost('db-2'),
      nodeRunItem({ nodeId: 'web-1', identity: 'web-1', startedAt: 100, endedAt: 150 }),
      timedOutHost('app-1'),
      silentHost('db-1'),
    ];
    const summary = summarize(nodes);

    // Act
    const text = summaryText(summary, nodes, 1234, plain);

    // Assess
    expect(text).toBe(
      [
        '',
        'Got response from 2 out of 3/5 (discovered/expected) - exit code (3)',
        '',
        'No response from:',
        '    db-1',
        '    db-2',
        '',
        'Timeout in response from:',
        '    app-1',
        '',
        'Finished processing 2 / 5 hosts in 1234 ms',
        'Command durations: p50 50 ms, p95 150 ms, max 150 ms',
        `  █${' '.repeat(13)}█ 50–150 ms`,
      ].join('\n') + '\n',
    );
  });

  it('prints only the counts when every host answered with one duration', () => {
    const nodes = [nodeRunItem()];

    const text = summaryText(summarize(nodes), nodes, 80, plain);

    expect(text).toBe(
      '\nGot response from 1 out of 1/1 (discovered/expected) - exit code (0)\n' +
        '\nFinished processing 1 / 1 hosts in 80 ms\n' +
        'Command durations: p50 50 ms, p95 50 ms, max 50 ms\n',
    );
  });

  it('lists a host that answered only after the run gave up on it under what the run recorded', () => {
    const silent = [
      nodeRunItem({ nodeId: 'web-9', identity: 'web-9', status: 'late', lateAs: 'no_response' }),
    ];
    const slow = [nodeRunItem({ nodeId: 'web-8', identity: 'web-8', status: 'late', lateAs: 'timed_out' })];

    expect(summaryText(summarize(silent), silent, 1, plain)).toContain('No response from:\n    web-9\n');
    expect(summaryText(summarize(slow), slow, 1, plain)).toContain('Timeout in response from:\n    web-8\n');
  });

  it('lists skipped hosts and why the run stopped early', () => {
    const nodes = [
      nodeRunItem({ nodeId: 'a', identity: 'web-1', status: 'failed', exitCode: 1 }),
      nodeRunItem({
        nodeId: 'c',
        identity: 'web-3',
        status: 'skipped',
        exitCode: undefined,
        resultAt: undefined,
      }),
      nodeRunItem({
        nodeId: 'b',
        identity: 'web-2',
        status: 'skipped',
        exitCode: undefined,
        resultAt: undefined,
      }),
    ];
    const summary = summarize(nodes, 'stopped: 1 host failed (--max-errors 0)');

    const text = summaryText(summary, nodes, 10, plain);

    expect(text).toContain(
      'Skipped (the run stopped before their batch):\n    web-2\n    web-3\n\nstopped: 1 host failed (--max-errors 0)\n',
    );
  });

  it('does not reorder the nodes it was given', () => {
    const nodes = [silentHost('b'), silentHost('a')];

    summaryText(summarize(nodes), nodes, 1, plain);

    expect(nodes.map((n) => n.identity)).toEqual(['b', 'a']);
  });
});

describe('durationSparkline', () => {
  it('needs at least two durations', () => {
    expect(durationSparkline([])).toBeUndefined();
    expect(durationSparkline([42])).toBeUndefined();
  });

  it('draws the fullest bucket as a full bar and leaves empty buckets blank', () => {
    expect(durationSparkline([0, 0, 0, 0, 0, 0, 0, 0, 15])).toBe(`█${' '.repeat(14)}▁ 0–15 ms`);
  });

  it('spreads a wide range over the given number of buckets', () => {
    const durations = Array.from({ length: 160 }, (_, i) => 1_000 + i);

    expect(durationSparkline(durations)).toBe(`${'█'.repeat(16)} 1000–1159 ms`);
  });

  it('draws a single bar when every duration is the same', () => {
    expect(durationSparkline([5, 5, 5])).toBe('█ 5–5 ms');
  });
});

describe('runJson', () => {
  it('describes the run, its hosts sorted by identity with their outcome, and the summary', () => {
    // Prepare
    const meta = runMetaItem({ runId: 'RUN1' });
    const nodes = [
      nodeRunItem({
        nodeId: 'i-2',
        identity: 'web-2',
        status: 'failed',
        exitCode: 1,
        stderr: { text: 'no\n', bytes: 3, truncated: false },
      }),
      nodeRunItem({ nodeId: 'i-1', identity: 'web-1' }),
    ];

    // Act
    const json = runJson('RUN1', meta, nodes, 1500);

    // Assess
    expect(json).toEqual({
      runId: 'RUN1',
      status: 'succeeded',
      action: 'exec',
      command: { shell: 'uptime' },
      filter: { with: [], fact: ['role=web'], class: [], identity: [] },
      options: meta.options,
      caller: 'tester',
      startedAt: 1_000,
      finishedAt: 2_500,
      elapsedMs: 1500,
      hosts: [hostJson(nodes[1]!), hostJson(nodes[0]!)],
      summary: meta.summary,
      exitCode: 0,
      estimatedCost: null,
    });
    expect(json.hosts.map((h) => h.identity)).toEqual(['web-1', 'web-2']);
  });

  it('describes a run that never started as invalid, with the error', () => {
    const json = runJson('RUN2', undefined, [], 12, 'invalid run request: runId: runId must be a ULID');

    expect(json).toEqual({
      runId: 'RUN2',
      status: 'invalid',
      action: 'exec',
      command: null,
      filter: null,
      options: null,
      caller: '',
      startedAt: null,
      finishedAt: null,
      elapsedMs: 12,
      hosts: [],
      summary: null,
      exitCode: 4,
      estimatedCost: null,
      error: 'invalid run request: runId: runId must be a ULID',
    });
  });
});

describe('hostJson', () => {
  it('gives every field of a host that ran the command', () => {
    const node = nodeRunItem({
      nodeId: 'i-1',
      identity: 'web-1',
      status: 'timed_out',
      exitCode: null,
      signal: 'SIGKILL',
      timedOut: true,
      stdout: { text: 'partial', bytes: 90_000, truncated: true },
      stderr: { text: '', bytes: 0, truncated: false },
      startedAt: 100,
      endedAt: 10_100,
      error: 'killed after 10 s',
    });

    expect(hostJson(node)).toEqual({
      identity: 'web-1',
      nodeId: 'i-1',
      status: 'timed_out',
      exitCode: null,
      signal: 'SIGKILL',
      timedOut: true,
      stdout: 'partial',
      stderr: '',
      stdoutBytes: 90_000,
      stderrBytes: 0,
      stdoutTruncated: true,
      stderrTruncated: false,
      startedAt: 100,
      endedAt: 10_100,
      durationMs: 10_000,
      error: 'killed after 10 s',
    });
  });

  it('gives nulls and empty output for a host that never answered', () => {
    expect(hostJson(silentHost('db-1'))).toEqual({
      identity: 'db-1',
      nodeId: 'db-1',
      status: 'no_response',
      exitCode: null,
      signal: null,
      timedOut: false,
      stdout: '',
      stderr: '',
      stdoutBytes: 0,
      stderrBytes: 0,
      stdoutTruncated: false,
      stderrTruncated: false,
      startedAt: null,
      endedAt: null,
      durationMs: null,
    });
  });

  it('gives a host whose reply was recorded after the summary the status the summary counted', () => {
    // What Finish saw and counted: web-1 silent, web-2 still running (given up on as timed_out).
    const counted = [
      silentHost('web-1'),
      nodeRunItem({ nodeId: 'web-2', identity: 'web-2', status: 'timed_out', resultAt: undefined }),
      nodeRunItem({ nodeId: 'web-3', identity: 'web-3', status: 'succeeded' }),
    ];
    const summary = summarize(counted);
    // Then both replies landed: the ledger recorded them late, after the summary.
    const after = (n: NodeRunItem): NodeRunItem => ({
      ...n,
      status: 'late',
      lateAs: n.status,
      lateAfterSummary: true,
      exitCode: 0,
      stdout: { text: 'late\n', bytes: 5, truncated: false },
    });
    const nodes = [after(counted[0]!), after(counted[1]!), counted[2]!];

    const json = runJson('RUN3', runMetaItem({ status: 'failed', summary }), nodes, 10);

    const statuses = json.hosts.map((h) => h.status);
    expect(statuses).toEqual(['no_response', 'timed_out', 'succeeded']);
    expect(json.hosts.map((h) => h.lateReply)).toEqual([true, true, undefined]);
    expect(json.hosts[0]!.stdout).toBe('late\n');
    // Every count of the summary equals the hosts listed with that status.
    expect(summary).toMatchObject({ noResponse: 1, timedOut: 1, succeeded: 1, late: 0 });
    expect(statuses.filter((s) => s === 'no_response')).toHaveLength(summary.noResponse);
    expect(statuses.filter((s) => s === 'timed_out')).toHaveLength(summary.timedOut);
    expect(statuses.filter((s) => s === 'late')).toHaveLength(summary.late);
  });

  it('keeps a host recorded late before the summary as late, which the summary counts', () => {
    const node = nodeRunItem({ status: 'late', lateAs: 'no_response' });

    expect(hostJson(node).status).toBe('late');
    expect(hostJson(node).lateReply).toBeUndefined();
    expect(summarize([node]).late).toBe(1);
  });

  it('gives the reason of a rejection', () => {
    const node = nodeRunItem({ status: 'rejected', exitCode: undefined, reason: 'expired' });

    expect(hostJson(node).reason).toBe('expired');
  });
});
