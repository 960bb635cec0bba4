/**
 * The instances of the local Auto Scaling groups: each a real `drover agent` process whose node id
 * is the instance id and whose facts name its group (`role` and `asg`), as an agent on an EC2
 * instance of that group would report them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { InstanceHost, LocalInstance } from './autoscaling.ts';

export interface ScaledAgents extends Omit<InstanceHost, 'publish'> {
  /** Stops every agent still running (the stack is stopping). */
  stopAll(): Promise<void>;
}

export function scaledAgents(options: { home: string; root: string; heartbeatSec?: number }): ScaledAgents {
  const dir = join(options.home, 'local', 'instances');
  mkdirSync(dir, { recursive: true });
  const log = createWriteStream(join(options.home, 'local', 'instances.log'), { flags: 'a' });
  const children = new Map<string, { child: ChildProcess; exited: Promise<void> }>();
  const counters = new Map<string, number>();

  return {
    start(instance: LocalInstance) {
      const n = (counters.get(instance.group) ?? 0) + 1;
      counters.set(instance.group, n);
      const identity = `${instance.group}-asg-${n}`;
      const factsFile = join(dir, `${instance.id}.facts.yaml`);
      writeFileSync(
        factsFile,
        stringify({ role: instance.group, asg: instance.group, instance_id: instance.id }),
      );
      const child = spawn(
        process.execPath,
        [
          join(options.root, 'bin', 'drover.js'),
          'agent',
          '--home',
          options.home,
          '--identity',
          identity,
          '--node-id',
          instance.id,
          '--facts',
          factsFile,
          '--state-dir',
          join(dir, instance.id),
          '--heartbeat',
          String(options.heartbeatSec ?? 60),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      children.set(instance.id, { child, exited });
      void exited.then(() => children.delete(instance.id));
    },
    stop(instance: LocalInstance) {
      // EC2 shuts the instance down: the agent gets SIGTERM, then the machine is gone.
      const entry = children.get(instance.id);
      if (!entry) return;
      entry.child.kill('SIGTERM');
      setTimeout(() => entry.child.kill('SIGKILL'), 5_000).unref();
    },
    async stopAll() {
      for (const { child } of children.values()) child.kill('SIGKILL');
      await Promise.all([...children.values()].map((c) => c.exited));
      log.end();
    },
  };
}
