/**
 * `drover run`, `show` and `cancel` end to end: the CLI as a child process (alone, in pipelines,
 * interrupted), real agent processes, the local stack. Output formats are checked against the
 * schemas docs/cli.md documents.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { RUN_ERRORS } from '#shared/run-errors.ts';
import {
  cancelDocumentSchema,
  jsonlLineSchema,
  runDocumentSchema,
  runsDocumentSchema,
  type RunJson,
} from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { isAlive, stopAll } from '../helpers/processes.ts';
import { droverCli, droverPipeline, startDroverCli, stopCliProcesses } from '../helpers/cli.ts';
import { addSilentHost, startFleet } from '../helpers/fleet.ts';
import { runNodeOf } from '../helpers/run-seed.ts';

let t: TestStack;

const FLEET = [
  { identity: 'web-1', facts: { role: 'web', env: 'production' }, classes: ['nginx'] },
  { identity: 'web-2', facts: { role: 'web', env: 'staging' }, classes: ['nginx'] },
  { identity: 'db-1', facts: { role: 'db', env: 'production' }, classes: ['postgresql'] },
];

const hasJq = (() => {
  try {
    execFileSync('jq', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const blocks = (stdout: string) =>
  [...stdout.matchAll(/^>>>>>> (\S+) exit code: \((.+)\):$/gm)].map((m) => m[1]);
const run = (args: string[], input?: string) => droverCli(t.home, args, { input });
const runDocument = (stdout: string): RunJson => runDocumentSchema.parse(JSON.parse(stdout));

async function nodeItem(runId: string, nodeId: string): Promise<Record<string, unknown> | undefined> {
  return runNodeOf(t.db, t.stack.file.runsTable, runId, nodeId) as Promise<
    Record<string, unknown> | undefined
  >;
}

async function nodeStatus(runId: string, nodeId: string): Promise<string | undefined> {
  return (await nodeItem(runId, nodeId))?.status as string | undefined;
}

/**
 * `drover run` of a `sleep 30` that first writes its pid and run id to a file; resolves once the
 * command has started (the file is there).
 */
async function startSleepingRun(name: string, hostArgs: string[]) {
  const pidFile = join(t.home, `${name}.pid`);
  const cli = startDroverCli(t.home, ['run', `echo $$ $DROVER_RUN_ID > ${pidFile}; sleep 30`, ...hostArgs]);
  await eventually(async () =>
    existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() ? true : undefined,
  );
  const [pid, runId] = readFileSync(pidFile, 'utf8').trim().split(' ');
  return { cli, pid: Number(pid), runId: runId! };
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

describe('drover run output formats', () => {
  it('--json prints one document valid against the run schema, and nothing else on stdout', async () => {
    const r = await run(['run', 'echo "I am $DROVER_IDENTITY"', '-F', 'role=web', '--json']);

    expect(r.code).toBe(0);
    const doc = runDocument(r.stdout);
    expect(doc.hosts.map((h) => [h.identity, h.stdout])).toEqual([
      ['web-1', 'I am web-1\n'],
      ['web-2', 'I am web-2\n'],
    ]);
    expect(doc).toMatchObject({ status: 'succeeded', exitCode: 0, summary: { expected: 2, succeeded: 2 } });
  });

  it('--jsonl prints a valid line per host as it lands, then the summary line', async () => {
    const r = await run(['run', '[ "$DROVER_IDENTITY" = web-2 ] && exit 3; echo ok', '--jsonl']);

    expect(r.code).toBe(2);
    const lines = r.stdout
      .trimEnd()
      .split('\n')
      .map((line) => jsonlLineSchema.parse(JSON.parse(line)));
    expect(lines.map((l) => l.type)).toEqual(['host', 'host', 'host', 'summary']);
    const hosts = lines.filter((l) => l.type === 'host');
    expect(hosts.map((h) => [h.identity, h.exitCode]).sort()).toEqual([
      ['db-1', 0],
      ['web-1', 0],
      ['web-2', 3],
    ]);
    expect(lines.at(-1)).toMatchObject({
      type: 'summary',
      exitCode: 2,
      summary: { failed: 1, succeeded: 2 },
    });
  });

  it('ends the execution HostsFailed when a host failed, while drover run and show exit 2 as before', async () => {
    const r = await run([
      'run',
      '[ "$DROVER_IDENTITY" = web-2 ] && exit 3; echo ok',
      '-F',
      'role=web',
      '--json',
    ]);
    const doc = runDocument(r.stdout);
    const executionArn = `${t.stack.file.stateMachines.run!.replace(':stateMachine:', ':execution:')}:${doc.runId}`;
    const execution = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));

    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    expect(doc).toMatchObject({ status: 'failed', exitCode: 2, summary: { succeeded: 1, failed: 1 } });
    // What `sls invoke stepf` sees: FAILED (it exits 1), the outcome in the cause.
    expect(execution).toMatchObject({ status: 'FAILED', error: RUN_ERRORS.hostsFailed });
    expect(JSON.parse(execution.cause!)).toEqual({
      runId: doc.runId,
      status: 'failed',
      exitCode: 2,
      summary: doc.summary,
    });
    const shown = await run(['show', doc.runId]);
    expect(shown.code).toBe(2);
    expect(shown.stdout).toContain('>>>>>> web-2 exit code: (3):');
    expect(shown.stdout + shown.stderr).not.toContain('HostsFailed');
  });

  it('--display failed prints only the failed hosts, none prints no host; the summary always prints', async () => {
    const command = '[ "$DROVER_IDENTITY" = db-1 ] && exit 5; true';
    const [failed, none, ok] = await Promise.all([
      run(['run', command, '--display', 'failed']),
      run(['run', command, '--display', 'none']),
      run(['run', command, '--display', 'ok', '--json']),
    ]);

    expect(blocks(failed.stdout)).toEqual(['db-1']);
    expect(blocks(none.stdout)).toEqual([]);
    for (const r of [failed, none]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toContain('Got response from 3 out of 3/3 (discovered/expected) - exit code (2)');
    }
    expect(runDocument(ok.stdout).hosts.map((h) => h.identity)).toEqual(['web-1', 'web-2']);
  });

  it('prints a histogram of the command durations after the summary, then the cost', async () => {
    const r = await run(['run', 'sleep 0.$((RANDOM % 3))', '-C', '/./']);

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /Command durations: p50 \d+ ms, p95 \d+ ms, max \d+ ms\n {2}[▁▂▃▄▅▆▇█ ]+ \d+–\d+ ms\n≈ \$0\.\d+ for 3 hosts \(estimated AWS cost; drover cost explains the model\)\n$/,
    );
  });
});

describe('drover run options', () => {
  it.runIf(hasJq)(
    'chains through jq: the hosts that failed one run are the targets of the next',
    async () => {
      const r = await droverPipeline(
        t.home,
        `{drover} run '[ "$DROVER_IDENTITY" = web-2 ] && exit 7; true' --json ` +
          `| jq -r '.hosts[] | select(.status == "failed") | .identity' ` +
          `| {drover} run 'echo again on $DROVER_IDENTITY' --nodes -; echo "PIPESTATUS \${PIPESTATUS[*]}" >&2`,
      );

      expect(r.stderr).toContain('PIPESTATUS 2 0 0');
      expect(blocks(r.stdout)).toEqual(['web-2']);
      expect(r.stdout).toContain('again on web-2');
    },
  );

  it('chains a --json document straight into --nodes -', async () => {
    const r = await droverPipeline(
      t.home,
      `{drover} run 'exit 1' -F role=web --json --display failed | {drover} run 'echo retried' --nodes - --json`,
    );

    const doc = runDocument(r.stdout);
    expect(doc.hosts.map((h) => [h.identity, h.stdout])).toEqual([
      ['web-1', 'retried\n'],
      ['web-2', 'retried\n'],
    ]);
  });

  it('--nodes FILE runs on the listed hosts and reports the ones not in the fleet (exit 3)', async () => {
    const file = join(t.home, 'hosts.txt');
    writeFileSync(file, '# the hosts to fix\nweb-1\nnope-9   (a typo)\n\ndb-1\n');

    const [text, json] = await Promise.all([
      run(['run', 'true', '--nodes', file]),
      run(['run', 'true', '--nodes', file, '--json']),
    ]);

    expect(text.code).toBe(3);
    expect(blocks(text.stdout).sort()).toEqual(['db-1', 'web-1']);
    expect(text.stdout).toContain('Not in the fleet (unknown or stale; nothing was sent):\n    nope-9\n');
    expect(runDocument(json.stdout)).toMatchObject({ notFound: ['nope-9'], exitCode: 3 });
  });

  it('--nodes - with an empty list runs nothing and exits 1', async () => {
    const r = await run(['run', 'true', '--nodes', '-'], '\n');

    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no hosts in the list');
  });

  it('--limit picks a random subset; --limit-seed repeats it; N% takes a share of the matches', async () => {
    const pick = async (args: string[]) =>
      runDocument((await run(['run', 'true', '--json', ...args])).stdout).hosts.map((h) => h.identity);

    const [first, again, share] = await Promise.all([
      pick(['--limit', '1', '--limit-seed', 'tuesday']),
      pick(['--limit', '1', '--limit-seed', 'tuesday']),
      pick(['--limit', '66%']),
    ]);

    expect(first).toHaveLength(1);
    expect(again).toEqual(first);
    expect(share).toHaveLength(2);
  });

  it('passes -t, --dt, --ttl, --batch N%, --batch-sleep and --max-errors N% to the run', async () => {
    const r = await run([
      'run',
      'true',
      '-t',
      '30',
      '--dt',
      '4',
      '--ttl',
      '3',
      '--batch',
      '34%',
      '--batch-sleep',
      '0',
      '--max-errors',
      '50%',
      '--json',
    ]);

    expect(r.code).toBe(0);
    expect(runDocument(r.stdout).options).toMatchObject({
      timeoutSec: 30,
      discoveryTimeoutSec: 4,
      ttlSec: 3,
      batchSize: '34%',
      batchSleepSec: 0,
      maxErrors: '50%',
    });
  });

  it('show prints a past run exactly as run printed it, as text and as JSON', async () => {
    // db-1 answers 300 ms after web-1, so the blocks land in the same order every time.
    const command = '[ "$DROVER_IDENTITY" = db-1 ] && sleep 0.3; echo out; echo err >&2; exit 4';
    const direct = await run(['run', command, '-I', 'web-1', '-I', 'db-1']);
    const latest = runsDocumentSchema.parse(
      JSON.parse((await run(['runs', '--limit', '1', '--json'])).stdout),
    );
    const shown = await run(['show', latest.runs[0]!.runId]);
    const directJson = await run(['run', command, '-I', 'web-1', '-I', 'db-1', '--json']);
    const shownJson = await run(['show', runDocument(directJson.stdout).runId, '--json']);

    expect(direct.code).toBe(2);
    expect(blocks(direct.stdout)).toEqual(['web-1', 'db-1']);
    expect(shown.code).toBe(2);
    expect(shown.stdout).toBe(direct.stdout);
    expect(shownJson.stdout).toBe(directJson.stdout);
  });

  it('--async prints only the run id and exits; show follows the run to its end', async () => {
    const started = await run(['run', 'sleep 1; echo late riser', '-I', 'web-1', '--async']);
    const runId = started.stdout.trim();

    const shown = await run(['show', runId]);

    expect(started.code).toBe(0);
    expect(runId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(started.stderr).toContain(`drover show ${runId}`);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('>>>>>> web-1 exit code: (0):\nlate riser\n');
  });
});

describe('cancelling a run', () => {
  it('Ctrl-C asks the control plane to cancel: the command is killed, silent hosts given up, exit 130', async () => {
    const removeGhost = await addSilentHost(t, 'ghost-1');
    try {
      const { cli, pid, runId } = await startSleepingRun('interrupted', [
        '-I',
        'web-1',
        '-I',
        'ghost-1',
        '--dt',
        '30',
      ]);
      // The agent acks a command still running after its ack delay: wait for that ack.
      await eventually(async () => ((await nodeStatus(runId, 'web-1')) === 'acked' ? true : undefined));

      cli.child.kill('SIGINT');
      const code = await cli.exited;

      const { stdout, stderr } = cli.output();
      expect(code).toBe(130);
      expect(stderr).toMatch(/Interrupted: asking the control plane to cancel run [0-9A-Z]{26}/);
      expect(stderr).toContain('1 host told to stop the command, 1 host given up on before acknowledging');
      expect(stdout).toContain('>>>>>> web-1 exit code: (-):\n[cancelled: the run was cancelled]\n');
      expect(stdout).toContain('Cancelled:\n    ghost-1\n    web-1\n');
      expect(isAlive(pid)).toBe(false);
    } finally {
      await removeGhost();
    }
  });

  it('Ctrl-C right after the command started, before its ack is due, still kills it', async () => {
    const { cli, pid, runId } = await startSleepingRun('early', ['-I', 'web-1']);

    cli.child.kill('SIGINT');
    const code = await cli.exited;

    // The host may or may not have acked by now; either way the cancel reaches it, and the kill it
    // reports is its outcome (not a late reply).
    expect(code).toBe(130);
    await eventually(async () => (isAlive(pid) ? undefined : true), 10_000, 'the command to be killed');
    const host = await eventually(async () => {
      const item = await nodeItem(runId, 'web-1');
      return item?.resultAt !== undefined ? item : undefined;
    });
    expect(host).toMatchObject({ status: 'cancelled', signal: 'SIGTERM', error: 'cancelled' });
    expect(host.lateAs).toBeUndefined();
  });

  it('drover cancel stops a run started with --async; cancelling it again finds nothing to cancel', async () => {
    const removeGhost = await addSilentHost(t, 'ghost-2');
    try {
      const started = await run(['run', 'sleep 30', '-I', 'web-2', '-I', 'ghost-2', '--dt', '30', '--async']);
      const runId = started.stdout.trim();
      await eventually(async () => ((await nodeStatus(runId, 'web-2')) === 'acked' ? true : undefined));

      const cancel = await run(['cancel', runId]);
      const again = await run(['cancel', runId, '--json']);
      const shown = await run(['show', runId, '--json']);

      expect(cancel.code).toBe(0);
      expect(cancel.stdout).toBe(
        `Cancelled run ${runId}: 1 host told to stop the command, 1 host given up on before acknowledging.\n` +
          `Run ${runId} ended cancelled: 2 cancelled.\n`,
      );
      expect(again.code).toBe(1);
      expect(cancelDocumentSchema.parse(JSON.parse(again.stdout))).toMatchObject({
        status: 'cancelled',
        finalStatus: 'cancelled',
        stopping: 0,
        abandoned: 0,
      });
      const doc = runDocument(shown.stdout);
      expect(doc.status).toBe('cancelled');
      expect(doc.hosts.map((h) => [h.identity, h.status])).toEqual([
        ['ghost-2', 'cancelled'],
        ['web-2', 'cancelled'],
      ]);
      expect(shown.code).toBe(3);
    } finally {
      await removeGhost();
    }
  });

  it('show and cancel refuse a run that does not exist, with exit code 4', async () => {
    const [show, cancel, invalid] = await Promise.all([
      run(['show', '01ARZ3NDEKTSV4RRFFQ69G5FAV']),
      // Any execution name is a run id (a schedule's, a lifecycle hook's): this one names no run.
      run(['cancel', 'not-a-run']),
      run(['cancel', 'not a run']),
    ]);

    expect(show.code).toBe(4);
    expect(show.stderr).toBe(
      'drover: no run 01ARZ3NDEKTSV4RRFFQ69G5FAV on stage local (drover runs lists recent runs)\n',
    );
    expect(cancel.code).toBe(4);
    expect(cancel.stderr).toBe('drover: no run not-a-run on stage local (drover runs lists recent runs)\n');
    expect(invalid.code).toBe(4);
    expect(invalid.stderr).toMatch(/^drover: "not a run" is not a run id .*\n$/);
  });
});
