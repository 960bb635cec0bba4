import { describe, expect, it } from 'vitest';
import type { CliIO } from '#cli/context.ts';
import { RunReport, notAddressed, runExitCode } from '#cli/run-report.ts';
import { HostProgress } from '#cli/output/progress.ts';
import { isDisplayed } from '#cli/output/display.ts';
import { columns, shortDuration } from '#cli/output/format.ts';
import { jsonlLineSchema, runDocumentSchema } from '#cli/output/schemas.ts';
import { pingStats, pingStatisticsText, pingLine } from '#cli/ping-report.ts';
import { factDistribution, factsText } from '#cli/actions/facts.ts';
import { hostBlock, summaryText } from '#cli/output/text.ts';
import { closestCommand, usageErrorLine } from '#cli/usage-errors.ts';
import { hostCount } from '#cli/option-parsers.ts';
import { progressFor } from '#cli/output/printer-choice.ts';
import { nodeItem, nodeRunItem, runMetaItem, runSummary } from '../helpers/factories.ts';

/** An io that captures what the CLI writes; its stderr stream is a terminal when asked. */
function fakeIO(stderrIsTTY = false) {
  const captured = { stdout: '', stderr: '' };
  const io: CliIO = {
    out: (text) => void (captured.stdout += text),
    err: (text) => void (captured.stderr += text),
    color: false,
    stderr: { isTTY: stderrIsTTY, write: (text) => ((captured.stderr += text), true) },
    onInterrupt: () => () => undefined,
    setExitCode: () => undefined,
  };
  return { io, captured };
}

const barStream = (progress: HostProgress) => (progress as unknown as { stream: unknown }).stream;

const ok = nodeRunItem({
  nodeId: 'web-1',
  identity: 'web-1',
  stdout: { text: 'fine\n', bytes: 5, truncated: false },
});
const bad = nodeRunItem({
  nodeId: 'web-2',
  identity: 'web-2',
  status: 'failed',
  exitCode: 3,
  resultAt: 200,
  stdout: { text: 'broken\n', bytes: 7, truncated: false },
});

describe('RunReport', () => {
  it('prints only the blocks --display asks for, and the whole summary', () => {
    const { io, captured } = fakeIO();
    const report = new RunReport('RUN', io, {
      format: 'text',
      display: 'failed',
      progress: new HostProgress(undefined),
    });
    const meta = runMetaItem({
      summary: runSummary({ expected: 2, discovered: 2, succeeded: 1, failed: 1, exitCode: 2 }),
    });

    report.host(ok);
    report.host(bad);
    const code = report.finish(meta, { status: 'SUCCEEDED' }, 0);

    expect(code).toBe(2);
    expect(captured.stdout).toMatch(
      /^>>>>>> web-2 exit code: \(3\):\nbroken\n\n\nGot response from 2 out of 2\/2/,
    );
    expect(captured.stdout).not.toContain('web-1 exit code');
  });

  it('says when replies were still queued as the acknowledgement window closed, in text and JSON', () => {
    const meta = runMetaItem({
      repliesQueuedAtClose: 3,
      summary: runSummary({ expected: 2, discovered: 1, succeeded: 1, noResponse: 1, exitCode: 3 }),
    });
    const silent = nodeRunItem({ nodeId: 'web-2', identity: 'web-2', status: 'no_response' });
    const outputs = (['text', 'json', 'jsonl'] as const).map((format) => {
      const { io, captured } = fakeIO();
      const report = new RunReport('RUN', io, {
        format,
        display: 'all',
        progress: new HostProgress(undefined),
      });
      report.host(ok);
      report.host(silent);
      // The run completed with a host silent: its execution ended HostsFailed, which is no error.
      expect(report.finish(meta, { status: 'FAILED', error: 'HostsFailed', cause: '{}' }, 0)).toBe(3);
      return captured;
    });

    expect(outputs[0]!.stderr).toBe(
      'Note: 3 replies were still queued when the run stopped waiting for acknowledgements (the control plane ' +
        'was behind): hosts listed as not responding may have answered in time.\n',
    );
    expect(runDocumentSchema.parse(JSON.parse(outputs[1]!.stdout))).toMatchObject({
      repliesQueuedAtClose: 3,
    });
    expect(outputs[1]!.stderr).toBe('');
    const lines = outputs[2]!.stdout
      .trim()
      .split('\n')
      .map((l) => jsonlLineSchema.parse(JSON.parse(l)));
    expect(lines.at(-1)).toMatchObject({ type: 'summary', repliesQueuedAtClose: 3 });
  });

  it('prints a JSON line per host as it lands and a summary line, all valid against the schema', () => {
    const { io, captured } = fakeIO();
    const report = new RunReport('RUN', io, {
      format: 'jsonl',
      display: 'all',
      progress: new HostProgress(undefined),
    });

    report.host(ok);
    const afterFirst = captured.stdout;
    report.host(bad);
    report.finish(runMetaItem(), { status: 'SUCCEEDED' }, 0);

    expect(afterFirst.split('\n')).toHaveLength(2);
    const lines = captured.stdout
      .trimEnd()
      .split('\n')
      .map((l) => jsonlLineSchema.parse(JSON.parse(l)));
    expect(lines.map((l) => l.type)).toEqual(['host', 'host', 'summary']);
  });

  it('prints one JSON document with the elapsed time of the control plane', () => {
    const { io, captured } = fakeIO();
    const report = new RunReport('RUN', io, {
      format: 'json',
      display: 'all',
      progress: new HostProgress(undefined),
    });

    report.host(ok);
    report.finish(runMetaItem({ startedAt: 1_000, finishedAt: 1_750 }), { status: 'SUCCEEDED' }, 99_999);

    expect(runDocumentSchema.parse(JSON.parse(captured.stdout))).toMatchObject({
      elapsedMs: 750,
      exitCode: 0,
    });
  });

  it('says a run was cancelled, and by whom', () => {
    const { io, captured } = fakeIO();
    const report = new RunReport('RUN', io, {
      format: 'text',
      display: 'all',
      progress: new HostProgress(undefined),
    });

    report.finish(
      runMetaItem({ status: 'cancelled', error: 'cancelled by alice@bastion' }),
      { status: 'SUCCEEDED' },
      0,
    );

    expect(captured.stderr).toBe('Run RUN was cancelled (cancelled by alice@bastion).\n');
  });
});

describe('--nodes hosts that were not addressed', () => {
  it('are the listed names no host of the run answers to, when no filter narrowed the list', () => {
    const meta = runMetaItem({
      filter: { with: [], fact: [], class: [], identity: [] },
      options: { ...runMetaItem().options, nodes: ['web-1', 'i-2', 'nope'] },
    });
    const nodes = [
      nodeRunItem({ nodeId: 'web-1', identity: 'web-1' }),
      nodeRunItem({ nodeId: 'i-2', identity: 'web-2' }),
    ];

    expect(notAddressed(meta, nodes)).toEqual(['nope']);
    expect(notAddressed({ ...meta, filter: { ...meta.filter, fact: ['role=web'] } }, nodes)).toEqual([]);
  });

  it('raise the exit code to 3, as hosts that never answered would', () => {
    expect(runExitCode(runMetaItem({ summary: runSummary({ exitCode: 0 }) }), ['nope'])).toBe(3);
    expect(runExitCode(runMetaItem({ summary: runSummary({ exitCode: 2 }) }), ['nope'])).toBe(3);
    expect(runExitCode(runMetaItem({ summary: runSummary({ exitCode: 4 }) }), ['nope'])).toBe(4);
    expect(runExitCode(runMetaItem({ summary: runSummary({ exitCode: 0 }) }), [])).toBe(0);
  });

  it('are listed after the summary', () => {
    const text = summaryText(runSummary(), [ok], 10, { color: false }, { notFound: ['nope-9'] });

    expect(text).toContain('\nNot in the fleet (unknown or stale; nothing was sent):\n    nope-9\n');
  });
});

describe('cancelled hosts', () => {
  it('print their block with a note when the agent reported, and are listed in the summary', () => {
    const stopped = nodeRunItem({
      status: 'cancelled',
      exitCode: null,
      signal: 'SIGTERM',
      error: 'cancelled',
    });
    const abandoned = nodeRunItem({
      nodeId: 'db-1',
      identity: 'db-1',
      status: 'cancelled',
      resultAt: undefined,
    });

    expect(hostBlock(stopped, { color: false })).toBe(
      '>>>>>> web-1 exit code: (-):\n[cancelled: the run was cancelled]\n',
    );
    expect(hostBlock(abandoned, { color: false })).toBeUndefined();
    expect(summaryText(runSummary({ cancelled: 2 }), [stopped, abandoned], 5, { color: false })).toContain(
      '\nCancelled:\n    db-1\n    web-1\n',
    );
  });
});

describe('isDisplayed', () => {
  it.each([
    ['all', 'succeeded', true],
    ['all', 'failed', true],
    ['ok', 'succeeded', true],
    ['ok', 'timed_out', false],
    ['failed', 'succeeded', false],
    ['failed', 'no_response', true],
    ['none', 'failed', false],
  ] as const)('--display %s shows a %s host: %s', (display, status, shown) => {
    expect(isDisplayed({ status }, display)).toBe(shown);
  });
});

describe('the progress bar', () => {
  it('is drawn on stderr only when it is a terminal and the output is text', () => {
    expect(barStream(progressFor(fakeIO(true).io, {}))).toBeDefined();
    expect(barStream(progressFor(fakeIO(false).io, {}))).toBeUndefined();
    expect(barStream(progressFor(fakeIO(true).io, { json: true }))).toBeUndefined();
    expect(barStream(progressFor(fakeIO(true).io, { jsonl: true }))).toBeUndefined();
    expect(barStream(progressFor(fakeIO(true).io, { progress: false }))).toBeUndefined();
    expect(barStream(progressFor(fakeIO(false).io, { progress: true }))).toBeDefined();
  });

  it('counts hosts answered out of expected, and writes nothing once stopped', () => {
    const written: string[] = [];
    const progress = new HostProgress({ isTTY: false, write: (t) => (written.push(t), true) }, true);

    progress.update(1, 3);
    progress.stop();
    const count = written.length;
    progress.update(2, 3);

    expect(written.join('')).toMatch(/[█░]+ 1\/3 hosts answered/);
    expect(written).toHaveLength(count);
  });
});

describe('ping output', () => {
  it('computes min, max, average and percentiles of the round-trip times', () => {
    expect(pingStats([30, 10, 20])).toEqual({ count: 3, min: 10, max: 30, avg: 20, p50: 20, p95: 30 });
    expect(pingStats([])).toBeNull();
  });

  it('prints a line per host and statistics in the shape of mco ping', () => {
    expect(pingLine({ identity: 'web-1', nodeId: 'web-1', rttMs: 12 })).toBe(
      `web-1${' '.repeat(35)} time=12 ms`,
    );
    const text = pingStatisticsText(
      pingStats([12, 15]),
      [
        nodeRunItem({ identity: 'web-1' }),
        nodeRunItem({ nodeId: 'db-1', identity: 'db-1', status: 'no_response', resultAt: undefined }),
      ],
      false,
    );

    expect(text).toBe(
      '\n\n---- ping statistics ----\n2 replies max: 15 ms min: 12 ms avg: 14 ms p95: 15 ms\n\nNo response from:\n    db-1\n',
    );
  });
});

describe('facts output', () => {
  it('groups hosts by value, most common first, structured values as JSON, and lists hosts without the fact', () => {
    const hosts = [
      nodeItem({ nodeId: 'a', identity: 'a', facts: { os: { family: 'Debian' }, disks: [1, 2] } }),
      nodeItem({ nodeId: 'b', identity: 'b', facts: { os: { family: 'RedHat' }, disks: [1, 2] } }),
      nodeItem({ nodeId: 'c', identity: 'c', facts: { os: { family: 'Debian' } } }),
    ];

    const family = factDistribution('os.family', hosts);
    const disks = factDistribution('disks', hosts);

    expect(family.values.map((v) => [v.text, v.count, v.hosts])).toEqual([
      ['Debian', 2, ['a', 'c']],
      ['RedHat', 1, ['b']],
    ]);
    expect(disks.values[0]).toMatchObject({ text: '[1,2]', value: [1, 2], count: 2 });
    expect(disks.missing).toEqual(['c']);
    expect(factsText('os.family', { ...family, hosts: 3 })).toBe(
      'Report for fact: os.family\n\n  Debian  found 2 times  a, c\n  RedHat  found 1 time   b\n\nFinished processing 3 hosts\n',
    );
  });
});

describe('text helpers', () => {
  it('pads columns to the widest cell without trailing spaces', () => {
    expect(
      columns([
        ['a', 'bb', 'c'],
        ['ccc', 'd', ''],
      ]),
    ).toBe('a    bb  c\nccc  d');
  });

  it('says durations the short way', () => {
    expect([450, 12_000, 300_000, 7_200_000, 259_200_000].map(shortDuration)).toEqual([
      '450ms',
      '12s',
      '5m',
      '2h',
      '3d',
    ]);
  });
});

describe('usage errors', () => {
  it('become one line that says which help to read', () => {
    expect(usageErrorLine("error: unknown option '--jsn'\n(Did you mean --json?)\n", 'drover run')).toBe(
      "drover: unknown option '--jsn' (Did you mean --json?) (drover run --help lists the options)\n",
    );
  });

  it('suggest the closest command to a mistyped one', () => {
    const names = ['run', 'ping', 'find', 'facts', 'inventory', 'runs', 'show', 'cancel', 'cost'];

    expect(closestCommand('rnu', names)).toBe('run');
    expect(closestCommand('invetnory', names)).toBe('inventory');
    expect(closestCommand('deploy', names)).toBeUndefined();
  });
});

describe('host counts', () => {
  it('take a number or a share of the hosts', () => {
    expect(hostCount('--batch', 1)('10')).toBe(10);
    expect(hostCount('--batch', 1)('25%')).toBe('25%');
    expect(hostCount('--max-errors')('0')).toBe(0);
    expect(() => hostCount('--batch', 1)('0%')).toThrow('--batch must be a share from 1% to 100%, got "0%"');
    expect(() => hostCount('--limit', 1)('ten')).toThrow(
      '--limit must be a number of hosts or a share like 25%',
    );
  });
});
