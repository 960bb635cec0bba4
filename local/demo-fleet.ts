/**
 * Demo agents for the local stack: varied facts and classes so a first `drover run` has something
 * to filter, hosted by one real agent process (`drover agent --hosts`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
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
  pid: number;
  stop(): Promise<void>;
}

/** Writes the hosts' fact and class files and starts the agent process hosting them. */
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
  const hostsFile = join(dir, 'hosts.json');
  writeFileSync(hostsFile, JSON.stringify(spec, null, 2));
  const log = createWriteStream(join(options.home, 'local', 'demo-agents.log'), { flags: 'a' });
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
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    hosts,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}
