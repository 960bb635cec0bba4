/**
 * Real child processes for end-to-end tests: agents started with `drover agent`, and the
 * `drover` CLI itself. Every process started here is stopped by PID in `stopAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const DROVER = join(ROOT, 'bin', 'drover.js');

const children = new Set<ChildProcess>();

const testEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  NO_COLOR: '1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
});

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

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `drover ARGS` to completion. */
export function drover(
  home: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [DROVER, '--home', home, ...args], { env: testEnv() });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `drover ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolveRun({ code, stdout, stderr });
    });
  });
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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
