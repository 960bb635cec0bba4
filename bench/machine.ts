/**
 * What the bench reads about the machine: CPU seconds of the stack, the agent processes and the
 * whole machine from /proc, resident memory, and a quick speed check.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { newRunId } from '#shared/ids.ts';

/** Linux reports CPU times in /proc in clock ticks of 1/100 s (USER_HZ) on every architecture. */
const TICKS_PER_SEC = 100;

/** Cumulative CPU seconds: this process (the stack), the agent processes and their commands, the machine. */
export interface CpuSnapshot {
  stack: number;
  agent: number | null;
  commands: number | null;
  machineBusy: number | null;
  steal: number | null;
}

export function readTicks(path: string, pick: (fields: number[]) => number[]): number[] | null {
  try {
    const text = readFileSync(path, 'utf8');
    // /proc/<pid>/stat: fields after the parenthesised name; /proc/stat: the first ("cpu") line.
    const rest =
      path === '/proc/stat' ? text.split('\n')[0]!.slice(4) : text.slice(text.lastIndexOf(')') + 2);
    return pick(rest.trim().split(/\s+/).map(Number)).map((t) => t / TICKS_PER_SEC);
  } catch {
    return null;
  }
}

/**
 * CPU seconds of this process's children that have ended and been waited for (cutime + cstime):
 * across one `drover run` process, that process's own CPU, since the agent processes end only
 * with the bench. Null off Linux.
 */
export function reapedChildrenCpu(): number | null {
  return readTicks('/proc/self/stat', (f) => [f[13]! + f[14]!])?.[0] ?? null;
}

export function cpuSnapshot(agentPids: readonly number[]): CpuSnapshot {
  const own = process.cpuUsage();
  // utime, stime, cutime, cstime are fields 14–17 of /proc/<pid>/stat (11–14 after the name).
  const perProcess = agentPids.map((pid) =>
    readTicks(`/proc/${pid}/stat`, (f) => [f[11]! + f[12]!, f[13]! + f[14]!]),
  );
  let agent: number[] | null = [0, 0];
  for (const ticks of perProcess)
    agent = agent && ticks ? [agent[0]! + ticks[0]!, agent[1]! + ticks[1]!] : null;
  // user nice system idle iowait irq softirq steal
  const machine = readTicks('/proc/stat', (f) => [f[0]! + f[1]! + f[2]! + f[5]! + f[6]!, f[7]!]);
  return {
    stack: (own.user + own.system) / 1e6,
    agent: agent?.[0] ?? null,
    commands: agent?.[1] ?? null,
    machineBusy: machine?.[0] ?? null,
    steal: machine?.[1] ?? null,
  };
}

export function cpuSince(before: CpuSnapshot, after: CpuSnapshot): CpuSnapshot {
  const diff = (a: number | null, b: number | null) =>
    a === null || b === null ? null : Math.round((b - a) * 100) / 100;
  return {
    stack: diff(before.stack, after.stack)!,
    agent: diff(before.agent, after.agent),
    commands: diff(before.commands, after.commands),
    machineBusy: diff(before.machineBusy, after.machineBusy),
    steal: diff(before.steal, after.steal),
  };
}

/** Summed over the agent processes (and their command launchers). */
export function agentsMemoryMiB(pids: readonly number[]) {
  const each = pids.map(memoryMiB);
  const sum = (key: 'rss' | 'peakRss') =>
    each.some((m) => m[key] === null) ? null : each.reduce((total, m) => total + m[key]!, 0);
  return { rss: sum('rss'), peakRss: sum('peakRss') };
}

export function memoryMiB(pid: number | 'self') {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // The process is gone: no figures.
  }
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Math.round(Number(match[1]) / 1024) : null;
  };
  return { rss: field('VmRSS'), peakRss: field('VmHWM') };
}

export interface SpeedCheck {
  forkMs: number;
  jsMs: number;
}

/**
 * How fast the machine is right now, two ways, each the quickest of three: 100 `bash -c true`
 * forked by one bash (fork and exec), and 20,000 JSON round trips and SHA-256 digests of a small
 * request in this process (the kind of work the SDK and emulators do). The VM shares its host: the
 * same code has cost 25–60 % more CPU per run from one invocation to the next, and these figures
 * say in which conditions a result was taken. They do not always move together.
 */
export function speedCheck(): SpeedCheck {
  const quickest = (work: () => void) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      work();
      best = Math.min(best, performance.now() - start);
    }
    return Math.round(best);
  };
  const request = {
    runId: newRunId(),
    targets: Array.from({ length: 40 }, (_, i) => `web-${i}`),
    command: 'true',
  };
  const jsMs = quickest(() => {
    for (let i = 0; i < 20_000; i++) {
      const text = JSON.stringify({ ...request, i });
      JSON.parse(text);
      createHash('sha256').update(text).digest();
    }
  });
  const forkMs = quickest(() =>
    spawnSync('bash', ['-c', 'for i in {1..100}; do bash -c true; done'], { stdio: 'ignore' }),
  );
  return { forkMs, jsMs };
}
