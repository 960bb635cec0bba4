/**
 * The command launcher with real processes: commands run from a child process of ours, with the
 * executor's contract intact (exit codes, separate streams, caps, timeout, cancel), and nothing is
 * lost or left running when the launcher or the process that owns it dies.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandLauncher, LAUNCHER_V8_FLAG } from '#agent/many/command-launcher.ts';
import { childPids } from '#local/demo-fleet.ts';
import { ROOT, isAlive } from '../helpers/processes.ts';
import { waitUntil } from '../helpers/wait.ts';

const ENV = { PATH: '/usr/bin:/bin' };
const launchers: CommandLauncher[] = [];

function launcher(options: { onProblem?: (message: string) => void; closeTimeoutMs?: number } = {}) {
  const l = new CommandLauncher(options);
  launchers.push(l);
  return l;
}

/** Starts `sleep 30` through `l`; resolves once it runs, with its pid and its coming result. */
async function startSleep(l: CommandLauncher, signal?: AbortSignal) {
  let pid: number | undefined;
  const result = l.execute(
    { shell: 'sleep 30' },
    { timeoutSec: 60, env: ENV, onStart: (p) => (pid = p), ...(signal ? { signal } : {}) },
  );
  await waitUntil(() => pid !== undefined);
  return { pid: pid!, result };
}

afterEach(async () => {
  await Promise.all(launchers.splice(0).map((l) => l.close()));
});

describe('CommandLauncher', () => {
  it('runs commands from its own child process, with exit code and both streams', async () => {
    const l = launcher();
    const r = await l.execute(
      { shell: 'echo "from $PPID"; echo oops >&2; exit 3' },
      { timeoutSec: 10, env: ENV },
    );
    expect(r).toMatchObject({ exitCode: 3, signal: null, timedOut: false, cancelled: false });
    expect(r.stdout.text).toBe(`from ${l.pid}\n`);
    expect(r.stderr.text).toBe('oops\n');
    expect(childPids(process.pid)).toContain(l.pid);
    expect(r.pid).not.toBe(l.pid);
  });

  it('runs as a small process: a 1 MB young generation, none of our loader flags', async () => {
    const l = launcher();
    await l.execute({ shell: 'true' }, { timeoutSec: 10, env: ENV });
    const argv = readFileSync(`/proc/${l.pid}/cmdline`, 'utf8').split('\0');
    expect(argv).toContain(LAUNCHER_V8_FLAG);
    expect(argv.filter((a) => a.startsWith('-'))).toEqual([LAUNCHER_V8_FLAG]);
  });

  it('keeps the output cap, the byte counts and the real exit code across the channel', async () => {
    const r = await launcher().execute(
      { shell: 'head -c 200000 /dev/zero | tr "\\0" x; exit 7' },
      { timeoutSec: 10, env: ENV, outputCapBytes: 1024 },
    );
    expect(r.exitCode).toBe(7);
    expect(r.stdout).toMatchObject({ bytes: 200_000, truncated: true });
    expect(r.stdout.text).toContain('bytes omitted');
  });

  it('times a command out by its process group, as the executor does', async () => {
    const r = await launcher().execute(
      { shell: 'sleep 30 & wait' },
      { timeoutSec: 0.3, env: ENV, killGraceMs: 200 },
    );
    expect(r).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGTERM' });
    expect(isAlive(r.pid!)).toBe(false);
  });

  it('passes on the start (pid = process group) and a cancel', async () => {
    const controller = new AbortController();
    const sleep = await startSleep(launcher(), controller.signal);
    controller.abort();
    const r = await sleep.result;
    expect(r).toMatchObject({ cancelled: true, pid: sleep.pid, error: 'cancelled' });
    expect(isAlive(sleep.pid)).toBe(false);
  });

  it('sees commands end while a burst is still being started, not only once every one of it is', async () => {
    // Arrange: a burst as an agent process sends when all its agents get a request together.
    const l = launcher();
    await l.execute({ shell: 'true' }, { timeoutSec: 10, env: ENV });
    const events: string[] = [];
    const count = 200;

    // Act
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        l
          .execute({ shell: 'true' }, { timeoutSec: 30, env: ENV, onStart: () => events.push(`start ${i}`) })
          .then((r) => {
            expect(r.exitCode).toBe(0);
            events.push(`done ${i}`);
          }),
      ),
    );

    // Assess: results came back before the last of the burst started (the launcher reads exits
    // between two spawns), and every command started and ended once, in the order sent.
    expect(events.indexOf('done 0')).toBeLessThan(events.indexOf(`start ${count - 1}`));
    const starts = events.filter((e) => e.startsWith('start'));
    expect(starts).toEqual(Array.from({ length: count }, (_, i) => `start ${i}`));
    expect(events.filter((e) => e.startsWith('done'))).toHaveLength(count);
  }, 60_000);

  it('cancels a command of a burst that has not started yet: it never runs', async () => {
    // Arrange: a burst ahead of it, so it waits its turn in the launcher.
    const l = launcher();
    await l.execute({ shell: 'true' }, { timeoutSec: 10, env: ENV });
    const ahead = Array.from({ length: 100 }, () =>
      l.execute({ shell: 'true' }, { timeoutSec: 30, env: ENV }),
    );
    const controller = new AbortController();
    let started = false;
    const marker = `/tmp/drover-launcher-never-${process.pid}-${Date.now()}`;

    // Act
    const last = l.execute(
      { shell: `touch ${marker}` },
      { timeoutSec: 30, env: ENV, signal: controller.signal, onStart: () => (started = true) },
    );
    controller.abort();
    const result = await last;
    await Promise.all(ahead);

    // Assess
    expect(result).toMatchObject({ cancelled: true });
    expect(started).toBe(false);
    expect(existsSync(marker)).toBe(false);
  }, 60_000);

  it('does not start a launcher for a command cancelled before it started', async () => {
    const l = launcher();
    const r = await l.execute(
      { shell: 'touch /nonexistent' },
      { timeoutSec: 5, env: ENV, signal: AbortSignal.abort() },
    );
    expect(r).toMatchObject({ cancelled: true, error: 'cancelled before it started' });
    expect(l.pid).toBeUndefined();
  });

  it('reports the commands of a launcher that died, kills them, and starts a new launcher', async () => {
    const problems: string[] = [];
    const l = launcher({ onProblem: (m) => problems.push(m) });
    const { pid: commandPid, result: running } = await startSleep(l);
    const first = l.pid!;
    process.kill(first, 'SIGKILL');

    const r = await running;
    expect(r.exitCode).toBeNull();
    expect(r.error).toBe(
      `the command launcher (pid ${first}) exited (SIGKILL) while the command ran; process group ${commandPid} was killed`,
    );
    expect(problems).toEqual([`the command launcher (pid ${first}) exited (SIGKILL)`]);
    await waitUntil(() => !isAlive(commandPid));

    const again = await l.execute({ shell: 'echo $PPID' }, { timeoutSec: 10, env: ENV });
    expect(again.exitCode).toBe(0);
    expect(l.pid).not.toBe(first);
    expect(again.stdout.text).toBe(`${l.pid}\n`);
  });

  it('leaves signals for the agent process group to the agent: a TERM does not stop the launcher', async () => {
    const l = launcher();
    let started = false;
    const running = l.execute(
      { shell: 'sleep 0.5; echo finished' },
      { timeoutSec: 10, env: ENV, onStart: () => (started = true) },
    );
    await waitUntil(() => started);
    process.kill(l.pid!, 'SIGTERM');
    process.kill(l.pid!, 'SIGINT');
    const r = await running;
    expect(r).toMatchObject({ exitCode: 0, stdout: { text: 'finished\n' } });
    expect(isAlive(l.pid!)).toBe(true);
  });

  it('on close, lets the launcher exit and runs nothing more', async () => {
    const l = launcher();
    await l.execute({ shell: 'true' }, { timeoutSec: 10, env: ENV });
    const pid = l.pid!;
    await l.close();
    expect(isAlive(pid)).toBe(false);
    const r = await l.execute({ shell: 'true' }, { timeoutSec: 10, env: ENV });
    expect(r).toMatchObject({ exitCode: null, error: 'the agent is stopping: the command was not run' });
  });

  it('on close, cancels a command still running after its timeout and reports it', async () => {
    const problems: string[] = [];
    const l = launcher({ onProblem: (m) => problems.push(m), closeTimeoutMs: 300 });
    const { pid: commandPid, result: running } = await startSleep(l);
    const launcherPid = l.pid!;

    await l.close();
    const r = await running;

    expect(r.exitCode).toBeNull();
    expect(r.error).toBe(
      `the agent stopped the command launcher while the command ran; process group ${commandPid} was killed`,
    );
    expect(problems).toEqual([]);
    expect(isAlive(launcherPid)).toBe(false);
    expect(isAlive(commandPid)).toBe(false);
  });

  it('cancels its commands and exits when the process that owns it is killed', async () => {
    // A process of its own that starts a launcher and a long command, then is SIGKILLed.
    const owner = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { CommandLauncher } = await import('#agent/many/command-launcher.ts');
         const l = new CommandLauncher();
         void l.execute({ shell: 'sleep 30' }, { timeoutSec: 60, env: { PATH: '/usr/bin:/bin' },
           onStart: (pid) => console.log(JSON.stringify({ launcher: l.pid, command: pid })) });`,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let pids: { launcher: number; command: number } | undefined;
    try {
      pids = await new Promise<{ launcher: number; command: number }>((resolve, reject) => {
        owner.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()) as never));
        owner.once('exit', () => reject(new Error('the owner exited before the command started')));
      });
      owner.kill('SIGKILL');
      await waitUntil(() => !isAlive(pids!.launcher) && !isAlive(pids!.command));
    } finally {
      if (owner.exitCode === null) owner.kill('SIGKILL');
      for (const pid of pids ? [pids.launcher, -pids.command] : []) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone, as it should be.
        }
      }
    }
  });
});
