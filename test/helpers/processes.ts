/**
 * Real child processes for end-to-end tests: agents started with `drover agent` (the CLI itself:
 * cli.ts). Every process started here is stopped by PID in `stopAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { testEnv } from './env.ts';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const DROVER = join(ROOT, 'bin', 'drover.js');

const children = new Set<ChildProcess>();

export interface AgentProcess {
  identity: string;
  stateDir: string;
  process: ChildProcess;
  exited: Promise<void>;
}

export interface AgentSpec {
  identity: string;
  facts: Record<string, unknown>;
  classes?: string[];
  heartbeat?: number;
  /** More `drover agent` flags. */
  args?: string[];
}

/** Writes the agent's facts and classes files and starts `drover agent` for it. */
export function startAgent(home: string, spec: AgentSpec): AgentProcess {
  const dir = join(home, 'e2e-agents', spec.identity);
  mkdirSync(dir, { recursive: true });
  const factsFile = join(dir, 'facts.yaml');
  const classesFile = join(dir, 'classes.txt');
  writeFileSync(factsFile, stringify(spec.facts));
  writeFileSync(classesFile, (spec.classes ?? []).join('\n') + '\n');
  const stateDir = join(dir, 'state');
  const child = spawn(
    process.execPath,
    [
      DROVER,
      'agent',
      '--home',
      home,
      '--identity',
      spec.identity,
      '--facts',
      factsFile,
      '--classes',
      classesFile,
      '--state-dir',
      stateDir,
      '--heartbeat',
      String(spec.heartbeat ?? 60),
      ...(spec.args ?? []),
    ],
    {
      env: testEnv(),
      stdio: ['ignore', process.env.DROVER_TEST_AGENT_LOGS ? 'inherit' : 'ignore', 'inherit'],
    },
  );
  children.add(child);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  void exited.then(() => children.delete(child));
  return { identity: spec.identity, stateDir, process: child, exited };
}

/** Stops every process this module started: SIGTERM, then SIGKILL after a grace. */
export function stopAll(): Promise<void> {
  return stopChildren(children, (child) => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
  });
}

/** Resolves once every child of `children` that still runs has exited after `kill` was sent it. */
export async function stopChildren(
  children: Iterable<ChildProcess>,
  kill: (child: ChildProcess) => void,
): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((r) => {
          if (child.exitCode !== null || child.signalCode !== null) return r();
          child.once('exit', () => r());
          kill(child);
        }),
    ),
  );
}

/** True while the process exists and is not a zombie waiting to be reaped (Linux: /proc). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false; // gone since the signal
  }
}
