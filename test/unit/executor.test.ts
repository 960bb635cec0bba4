import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executeCommand, type ExecuteOptions } from '#agent/execute/executor.ts';
import { HeadTailBuffer } from '#agent/execute/head-tail-buffer.ts';
import { renderStream } from '#shared/output-fit.ts';
import { waitUntil } from '../helpers/wait.ts';
import { isAlive } from '../helpers/processes.ts';

const baseEnv = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  DROVER_RUN_ID: '01HZZZZZZZZZZZZZZZZZZZZZZZ',
};

function options(overrides: Partial<ExecuteOptions> = {}): ExecuteOptions {
  return { timeoutSec: 20, env: baseEnv, ...overrides };
}

let dir: string;
const strayPids: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-executor-'));
});

afterEach(() => {
  for (const pid of strayPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: nothing to clean up.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function readPid(file: string): number {
  const pid = Number(readFileSync(join(dir, file), 'utf8').trim());
  strayPids.push(pid);
  return pid;
}

describe('executeCommand', () => {
  it('keeps the exit code of a shell command', async () => {
    const result = await executeCommand({ shell: 'exit 3' }, options());

    expect(result).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(result.error).toBeUndefined();
    expect(result.pid).toBeGreaterThan(0);
    expect(result.endedAt).toBeGreaterThanOrEqual(result.startedAt);
  });

  it('captures stdout and stderr separately', async () => {
    const result = await executeCommand({ shell: 'echo out; echo err >&2' }, options());

    expect(result.stdout).toEqual({ text: 'out\n', bytes: 4, truncated: false });
    expect(result.stderr).toEqual({ text: 'err\n', bytes: 4, truncated: false });
  });

  it('runs shell strings in bash, so pipefail and PIPESTATUS work', async () => {
    const pipefail = await executeCommand({ shell: 'set -o pipefail; false | true' }, options());
    const pipestatus = await executeCommand({ shell: 'false | true; echo ${PIPESTATUS[0]}' }, options());

    expect(pipefail.exitCode).toBe(1);
    expect(pipestatus.stdout.text).toBe('1\n');
    expect(pipestatus.exitCode).toBe(0);
  });

  it('runs argv without a shell', async () => {
    const result = await executeCommand({ argv: ['printf', '%s', 'a b'] }, options());

    expect(result.exitCode).toBe(0);
    expect(result.stdout.text).toBe('a b');
  });

  it('caps large output to head and tail, counts every byte and keeps the exit code', async () => {
    const result = await executeCommand(
      { shell: "printf START; head -c 204800 /dev/zero | tr '\\0' x; printf END; exit 5" },
      options(),
    );

    const total = 204_800 + 'START'.length + 'END'.length;
    expect(result.exitCode).toBe(5);
    expect(result.stdout.truncated).toBe(true);
    expect(result.stdout.bytes).toBe(total);
    expect(result.stdout.text.startsWith('START' + 'x'.repeat(32 * 1024 - 5))).toBe(true);
    expect(result.stdout.text.endsWith('x'.repeat(32 * 1024 - 3) + 'END')).toBe(true);
    expect(result.stdout.text).toContain(`\n…[${total - 64 * 1024} bytes omitted]…\n`);
  });

  it('cuts both streams further to fit an output budget, escapes counted, head and tail kept', async () => {
    const result = await executeCommand(
      {
        shell:
          "echo START; head -c 100000 /dev/zero | tr '\\0' '\\1'; echo END; head -c 100000 /dev/zero >&2",
      },
      options({ outputCapBytes: 1_000_000, outputBudgetBytes: 50_000 }),
    );

    const asJson = (text: string) => Buffer.byteLength(JSON.stringify(text)) - 2;
    expect(asJson(result.stdout.text) + asJson(result.stderr.text)).toBeLessThanOrEqual(50_000);
    expect(result.stdout).toMatchObject({ bytes: 100_010, truncated: true });
    expect(result.stderr).toMatchObject({ bytes: 100_000, truncated: true });
    expect(result.stdout.text.startsWith('START\n\u0001')).toBe(true);
    expect(result.stdout.text.endsWith('\u0001END\n')).toBe(true);
  });

  it('keeps memory bounded for output far larger than the cap', async () => {
    const result = await executeCommand(
      { shell: 'head -c 52428800 /dev/zero' },
      options({ outputCapBytes: 1024 }),
    );

    expect(result.stdout.bytes).toBe(52_428_800);
    expect(result.stdout.truncated).toBe(true);
    expect(result.stdout.text.length).toBeLessThan(1100);
  });

  it('kills the whole process group on timeout and resolves soon after', async () => {
    const started = Date.now();
    const result = await executeCommand(
      { shell: `sleep 30 & echo $! > ${dir}/bg.pid; sleep 30` },
      options({ timeoutSec: 1 }),
    );
    const elapsed = Date.now() - started;
    const background = readPid('bg.pid');

    expect(result).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: 'SIGTERM' });
    expect(result.error).toMatch(/timed out after 1s/);
    expect(elapsed).toBeLessThan(2_500);
    await waitUntil(() => !isAlive(background), 'the background process to be gone', 1_000);
    expect(isAlive(result.pid ?? 0)).toBe(false);
  });

  it('sends SIGKILL after the grace when the command ignores SIGTERM', async () => {
    const started = Date.now();
    const result = await executeCommand(
      { shell: `trap '' TERM; sleep 30 & echo $! > ${dir}/bg.pid; sleep 30` },
      options({ timeoutSec: 0.5, killGraceMs: 500 }),
    );
    const background = readPid('bg.pid');

    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await waitUntil(() => !isAlive(background), 'the background process to be gone', 1_000);
  });

  it('cancels through the abort signal', async () => {
    const controller = new AbortController();
    let startedPid: number | undefined;
    const running = executeCommand(
      { shell: 'sleep 30' },
      options({ signal: controller.signal, onStart: (pid) => (startedPid = pid) }),
    );
    controller.abort();
    const result = await running;

    expect(startedPid).toBe(result.pid);
    expect(result).toMatchObject({ cancelled: true, timedOut: false, exitCode: null, signal: 'SIGTERM' });
  });

  it('does not start a command whose signal is already aborted', async () => {
    const result = await executeCommand({ argv: ['true'] }, options({ signal: AbortSignal.abort() }));

    expect(result).toMatchObject({ cancelled: true, exitCode: null });
    expect(result.pid).toBeUndefined();
  });

  it('does not hang when a background process keeps the output pipes open', async () => {
    const started = Date.now();
    const result = await executeCommand(
      { shell: `sleep 30 & echo $! > ${dir}/bg.pid; echo done` },
      options({ streamGraceMs: 200 }),
    );
    readPid('bg.pid');

    expect(result.exitCode).toBe(0);
    expect(result.stdout.text).toBe('done\n');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports a missing binary in argv mode with exit code 127 and a clear error', async () => {
    const result = await executeCommand({ argv: ['drover-no-such-binary', '--help'] }, options());

    expect(result.exitCode).toBe(127);
    expect(result.pid).toBeUndefined();
    expect(result.error).toMatch(/cannot run "drover-no-such-binary": command not found/);
  });

  it('reports a missing working directory', async () => {
    const missing = join(dir, 'nope');
    const result = await executeCommand({ argv: ['true'] }, options({ cwd: missing }));

    expect(existsSync(missing)).toBe(false);
    expect(result.exitCode).toBe(127);
    expect(result.error).toMatch(/working directory .* does not exist/);
  });

  it('gives the command exactly the environment passed, in the given cwd', async () => {
    process.env.DROVER_TEST_LEAK = 'leaked';
    try {
      const result = await executeCommand({ shell: 'env; pwd' }, options({ cwd: dir }));

      expect(result.stdout.text).toContain('DROVER_RUN_ID=01HZZZZZZZZZZZZZZZZZZZZZZZ');
      expect(result.stdout.text).not.toContain('DROVER_TEST_LEAK');
      expect(result.stdout.text.trimEnd().endsWith(dir)).toBe(true);
    } finally {
      delete process.env.DROVER_TEST_LEAK;
    }
  });
});

describe('HeadTailBuffer', () => {
  it('keeps the first and last halves across many small chunks', () => {
    const buffer = new HeadTailBuffer(8);
    for (const char of 'abcdefghijklmnopqrstuvwxyz') buffer.push(Buffer.from(char));

    expect(renderStream(buffer.parts())).toEqual({
      text: 'abcd\n…[18 bytes omitted]…\nwxyz',
      bytes: 26,
      truncated: true,
    });
  });

  it('reports a stream that exactly fits as whole', () => {
    const buffer = new HeadTailBuffer(8);
    buffer.push(Buffer.from('abc'));
    buffer.push(Buffer.from('defgh'));

    expect(renderStream(buffer.parts())).toEqual({ text: 'abcdefgh', bytes: 8, truncated: false });
  });
});
