/**
 * `drover local` (what `npm start` runs): starts the stack with demo agents in the foreground,
 * writes the stack file, serves runs, and on SIGTERM or Ctrl-C stops everything it started.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalStackFile } from '#shared/local-stack-file.ts';
import { agentProcessCount, childPids } from '#local/demo-fleet.ts';
import { ROOT, isAlive, stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
});

const portOpen = (url: string) =>
  new Promise<boolean>((resolve) => {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * `drover local --agents N` in `dir`, leading a process group of its own as in a terminal (so a
 * Ctrl-C can reach the whole group); `output(text)` waits until its output shows `text`.
 */
function startLocal(dir: string, agents: number) {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'drover.js'), '--home', dir, 'local', '--agents', String(agents)],
    { env: { ...process.env, NO_COLOR: '1' }, detached: true },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const output = async (text: string, timeoutMs: number): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    while (!stdout.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return stdout;
  };
  return { child, exited, output };
}

/**
 * Runs `test` against `drover local --agents N` in a fresh home; whatever happens, the stack's
 * whole process group is killed if still running and the home removed.
 */
async function withLocal(
  agents: number,
  test: (local: ReturnType<typeof startLocal> & { home: string }) => Promise<void>,
): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'drover-local-'));
  const local = startLocal(home, agents);
  try {
    await test({ ...local, home });
  } finally {
    if (local.child.exitCode === null) process.kill(-local.child.pid!, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
}

describe('drover local', () => {
  it('runs the stack with demo agents until SIGTERM, then leaves nothing behind', () =>
    withLocal(3, async ({ child, exited, output, home }) => {
      const stdout = await output('Ctrl-C stops', 60_000);
      expect(stdout).toContain('demo agents     3/3 joined: web-1, web-2, db-1');
      expect(stdout).toContain("npx drover run 'hostname; uptime' -F role=web");
      const file = JSON.parse(readFileSync(join(home, 'local.json'), 'utf8')) as LocalStackFile;
      const agentPid = Number(/\(pid (\d+)\)/.exec(stdout)![1]);

      const r = await droverCli(home, ['run', 'echo $DROVER_IDENTITY', '-F', 'role=db']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('>>>>>> db-1 exit code: (0):\ndb-1\n');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(isAlive(agentPid)).toBe(false);
      expect(existsSync(join(home, 'local.json'))).toBe(false);
      for (const url of [file.endpoints.sqs, file.endpoints.dynamodb, file.endpoints.sfn]) {
        expect(await portOpen(url)).toBe(false);
      }
    }));

  it('on Ctrl-C (SIGINT to its whole process group) stops gracefully and leaves nothing behind', () =>
    withLocal(3, async ({ child, exited, output, home: dir }) => {
      const stdout = await output('Ctrl-C stops', 60_000);
      const agentPid = Number(/\(pid (\d+)\)/.exec(stdout)![1]);
      const launcherPids = childPids(agentPid);
      expect(launcherPids).toHaveLength(1);

      process.kill(-child.pid!, 'SIGINT');

      expect(await exited).toBe(0);
      expect(await output('stopped.', 5_000)).toContain('SIGINT: stopping…\n');
      expect(existsSync(join(dir, 'local.json'))).toBe(false);
      for (const pid of [agentPid, ...launcherPids]) expect(isAlive(pid)).toBe(false);
    }));

  it('refuses to start a second stack in a home whose stack is running, and leaves the first alone', () =>
    withLocal(0, async ({ child, exited, output, home: dir }) => {
      await output('Ctrl-C stops', 60_000);
      const stackFile = readFileSync(join(dir, 'local.json'), 'utf8');

      const second = await droverCli(dir, ['local', '--agents', '0']);

      expect(second.code).toBe(4);
      expect(second.stderr).toBe(
        `drover: a local stack (pid ${child.pid}) already runs in ${dir}: stop it first (Ctrl-C where it runs), or give this one another --home\n`,
      );
      expect(readFileSync(join(dir, 'local.json'), 'utf8')).toBe(stackFile);
      process.kill(-child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
    }));

  it('spreads a larger demo fleet over several agent processes, each with a command launcher, and stops them all', () =>
    withLocal(120, async ({ child, exited, output, home: fleetHome }) => {
      const stdout = await output('Ctrl-C stops', 90_000);
      expect(stdout).toContain('demo agents     120/120 joined');
      const pids = /\(pid ([\d, ]+)\)/.exec(stdout)![1]!.split(', ').map(Number);
      expect(pids).toHaveLength(agentProcessCount(120));
      const r = await droverCli(fleetHome, ['run', 'echo $PPID']);
      expect(r.stdout).toContain('Got response from 120 out of 120/120');
      // Many agents per process: commands start from each process's launcher, a child of its own.
      const launchers = pids.map((pid) => childPids(pid));
      for (const children of launchers) expect(children).toHaveLength(1);
      const parents = new Set(r.stdout.match(/^\d+$/gm)!.map(Number));
      expect([...parents].sort()).toEqual(launchers.flat().sort());

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      for (const pid of [...pids, ...launchers.flat()]) expect(isAlive(pid)).toBe(false);
    }));
});
