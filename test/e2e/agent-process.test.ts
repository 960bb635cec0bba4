/**
 * The agent as an operator runs it: the standalone command with a config file, against a real
 * SQS emulator. Config errors, SIGTERM with and without commands outliving the grace, SIGHUP
 * reloading config and facts, commands run as another user, and a damaged dedupe store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { HeartbeatReply } from '#shared/messages.ts';
import { newRunId } from '#shared/ids.ts';
import { startAgentHarness, STAGE, type AgentHarness, isResult } from '../helpers/agent-harness.ts';
import { signedRequest } from '../helpers/factories.ts';
import { ROOT, stopChildren } from '../helpers/processes.ts';
import { testEnv } from '../helpers/env.ts';

let h: AgentHarness;
const children = new Set<ChildProcess>();

beforeEach(async () => {
  h = await startAgentHarness();
});

afterEach(async () => {
  await stopChildren(children, (child) => child.kill('SIGKILL'));
  children.clear();
  await h.stop();
});

interface Started {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
  heartbeat: HeartbeatReply;
}

function writeConfig(settings: Record<string, unknown>): string {
  const keyFile = join(h.dir, 'signing.pub.pem');
  writeFileSync(keyFile, h.publicKey.export({ type: 'spki', format: 'pem' }));
  const path = join(h.dir, 'agent.yaml');
  writeFileSync(
    path,
    stringify({
      stage: STAGE,
      region: 'us-east-1',
      replies_queue_url: h.repliesQueueUrl,
      public_key: keyFile,
      endpoints: { sqs: h.agentEndpoint },
      ec2: 'never',
      identity: 'proc-1',
      state_dir: join(h.dir, 'state'),
      poll_wait_sec: 1,
      kill_grace_sec: 0.5,
      ...settings,
    }),
  );
  return path;
}

/** The agent as `drover-agent` runs it on a host, or (`cli`) as `drover agent --config` starts it. */
function spawnAgent(
  configPath: string,
  entry: 'standalone' | 'cli' = 'standalone',
): {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
} {
  const args =
    entry === 'cli'
      ? [join(ROOT, 'bin', 'drover.js'), 'agent', '--config', configPath]
      : ['--import', 'tsx', join(ROOT, 'agent', 'standalone.ts'), '--config', configPath];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: testEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function startAgentProcess(
  settings: Record<string, unknown> = {},
  entry: 'standalone' | 'cli' = 'standalone',
): Promise<Started> {
  const started = spawnAgent(writeConfig(settings), entry);
  const heartbeat = (await h.waitForReply((r) => r.type === 'heartbeat', 30_000)) as HeartbeatReply;
  return { ...started, heartbeat };
}

async function deliver(inbox: string, runId: string, shell: string): Promise<void> {
  await h.deliver(inbox, signedRequest({ runId, targets: ['proc-1'], timeoutSec: 60, command: { shell } }));
  // A command done within the ack delay is answered by its result alone.
  await h.waitForReply((r) => r.type !== 'heartbeat' && r.runId === runId, 20_000);
}

describe('the agent process', () => {
  it('refuses an invalid config at start: exit 2, one line naming the key, no stack trace', async () => {
    const path = writeConfig({ concurrency: 0, policy: { default: 'deny', allow: ['/(/'] } });

    const { exited, stderr } = spawnAgent(path);

    expect(await exited).toBe(2);
    expect(stderr()).toContain(`drover-agent: config ${path} key "concurrency": must be at least 1\n`);
    expect(stderr()).toMatch(
      /drover-agent: config .* key "policy\.allow\.0": is not a valid regular expression/,
    );
    expect(stderr()).not.toMatch(/^\s+at /m);
  });

  it('on SIGTERM stops polling, lets a running command finish, reports it and exits 0', async () => {
    const agent = await startAgentProcess({ shutdown_grace_sec: 20 });
    const runId = newRunId();
    await deliver(agent.heartbeat.inbox, runId, 'sleep 1; echo finished');

    agent.child.kill('SIGTERM');

    expect(await agent.exited).toBe(0);
    expect(await h.waitForReply(isResult(runId))).toMatchObject({
      exitCode: 0,
      stdout: { text: 'finished\n' },
    });
  });

  it('started by the drover CLI, on Ctrl-C (SIGINT) lets a running command finish, reports it and exits 0', async () => {
    const agent = await startAgentProcess({ shutdown_grace_sec: 20 }, 'cli');
    const runId = newRunId();
    await deliver(agent.heartbeat.inbox, runId, 'sleep 1; echo finished');

    agent.child.kill('SIGINT');

    expect(await agent.exited).toBe(0);
    expect(await h.waitForReply(isResult(runId))).toMatchObject({
      exitCode: 0,
      stdout: { text: 'finished\n' },
    });
  });

  it('on SIGTERM kills a command that outlives the grace, reports it, and still exits 0', async () => {
    const agent = await startAgentProcess({ shutdown_grace_sec: 1 });
    const runId = newRunId();
    await deliver(agent.heartbeat.inbox, runId, 'sleep 60');
    const stoppedAt = Date.now();

    agent.child.kill('SIGTERM');

    expect(await agent.exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(8_000);
    expect(await h.waitForReply(isResult(runId))).toMatchObject({ cancelled: true, exitCode: null });
  });

  it('on SIGHUP reloads its facts and its policy without restarting', async () => {
    const factsFile = join(h.dir, 'facts.yaml');
    writeFileSync(factsFile, 'role: web\n');
    const agent = await startAgentProcess({ facts: { files: [factsFile] } });
    expect(agent.heartbeat.facts.role).toBe('web');
    h.replies.length = 0;

    writeFileSync(factsFile, 'role: db\n');
    writeConfig({ facts: { files: [factsFile] }, policy: { deny: ['uname*'] } });
    agent.child.kill('SIGHUP');

    const reloaded = await h.waitForReply((r) => r.type === 'heartbeat' && r.facts.role === 'db', 20_000);
    expect(reloaded.type).toBe('heartbeat');
    const runId = newRunId();
    await deliver(agent.heartbeat.inbox, runId, 'uname -a');
    expect(h.replies.find((r) => r.type === 'rejected' && r.runId === runId)).toMatchObject({
      reason: 'policy: command matches deny pattern "uname*"',
    });
    expect(agent.child.exitCode).toBeNull();
  });

  it.skipIf(process.getuid?.() !== 0)('runs commands as the run_as user', async () => {
    const agent = await startAgentProcess({ policy: { run_as: 'nobody' } });
    const runId = newRunId();

    await deliver(agent.heartbeat.inbox, runId, 'id -un; echo $HOME');

    const result = await h.waitForReply(isResult(runId));
    expect(result.stdout.text.split('\n')[0]).toBe('nobody');
  });

  it('stops at start with an error naming a damaged dedupe store, and never polls', async () => {
    // Prepare: a store with a line that is not a record, between good ones.
    const stateDir = join(h.dir, 'state');
    mkdirSync(stateDir, { recursive: true });
    const good = (k: string) => JSON.stringify({ k, s: 'done', t: Date.now() }) + '\n';
    writeFileSync(join(stateDir, 'dedupe.jsonl'), good('RUN1#0') + 'garbage\n' + good('RUN2#0'));

    // Act
    const agent = spawnAgent(writeConfig({ identity: 'damaged-1', state_dir: stateDir }));
    const code = await agent.exited;
    await h.collectReplies();

    // Assess: it does not start with an empty memory and run again requests it already ran.
    expect(code).toBe(1);
    expect(agent.stderr()).toMatch(/dedupe\.jsonl is damaged \(line 2 is not a record\)/);
    expect(h.replies).toEqual([]);
  });
});
