/**
 * Demo agents for the local stack: varied facts and classes so a first `drover run` has something
 * to filter, hosted by real agent processes (`drover agent --hosts`), one per 100 agents up to one
 * per core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface DemoHost {
  identity: string;
  facts: Record<string, unknown>;
  classes: string[];
}

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

/** Two web hosts to every db host; environments and zones spread across the fleet. */
export function demoHosts(count: number): DemoHost[] {
  const hosts: DemoHost[] = [];
  const counters: Record<string, number> = { web: 0, db: 0 };
  for (let i = 0; i < count; i++) {
    const role = i % 3 === 2 ? 'db' : 'web';
    const n = ++counters[role]!;
    hosts.push({
      identity: `${role}-${n}`,
      facts: {
        role,
        env: i % 2 === 0 ? 'production' : 'staging',
        az: ZONES[i % ZONES.length],
        team: role === 'web' ? 'frontend' : 'data',
      },
      classes: [role === 'web' ? 'nginx' : 'postgresql'],
    });
  }
  return hosts;
}

export interface DemoFleet {
  hosts: DemoHost[];
  /** The agent processes, each hosting a share of the hosts. */
  pids: number[];
  stop(): Promise<void>;
}

/** A process hosts at most this many agents while there are cores to spread them over. */
export const AGENTS_PER_PROCESS = 100;

/**
 * How many agent processes host `count` agents: one per 100 agents, at most one per core (each
 * process is one event loop; beyond the cores they would only take turns).
 */
export function agentProcessCount(count: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.ceil(count / AGENTS_PER_PROCESS)));
}

/**
 * Writes the hosts' fact and class files and starts the agent processes hosting them (see
 * {@link agentProcessCount}), each a real `drover agent --hosts` process.
 */
export function startDemoFleet(options: {
  home: string;
  root: string;
  count: number;
  heartbeatSec: number;
}): DemoFleet {
  const dir = join(options.home, 'local', 'demo');
  mkdirSync(dir, { recursive: true });
  const hosts = demoHosts(options.count);
  const spec = hosts.map((host) => {
    const factsFile = join(dir, `${host.identity}.facts.yaml`);
    const classesFile = join(dir, `${host.identity}.classes.txt`);
    writeFileSync(factsFile, stringify(host.facts));
    writeFileSync(classesFile, host.classes.join('\n') + '\n');
    return { identity: host.identity, facts: [factsFile], classes: [classesFile] };
  });
  const log = createWriteStream(join(options.home, 'local', 'demo-agents.log'), { flags: 'a' });
  const processes = agentProcessCount(options.count);
  const children = Array.from({ length: processes }, (_, i) => {
    // Round robin, so every process gets a mix of roles.
    const hostsFile = join(dir, `hosts-${i + 1}.json`);
    writeFileSync(
      hostsFile,
      JSON.stringify(
        spec.filter((_, h) => h % processes === i),
        null,
        2,
      ),
    );
    return startAgentProcess(options, hostsFile, log);
  });
  return {
    hosts,
    pids: children.map((c) => c.child.pid ?? -1),
    async stop() {
      await Promise.all(children.map((c) => c.stop()));
      log.end();
    },
  };
}

function startAgentProcess(
  options: { root: string; home: string; heartbeatSec: number },
  hostsFile: string,
  log: WriteStream,
): { child: ChildProcess; stop(): Promise<void> } {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(options.root, 'bin', 'drover.js'),
      'agent',
      '--hosts',
      hostsFile,
      '--home',
      options.home,
      '--heartbeat',
      String(options.heartbeatSec),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * The children of `pid` (of an agent process between commands: its command launcher), from Linux's
 * /proc/<pid>/task/<pid>/children; none if that cannot be read.
 */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
