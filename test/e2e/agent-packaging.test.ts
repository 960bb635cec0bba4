/**
 * Packaging: `npm run build:agent` makes one file that runs with plain node and no node_modules;
 * install.sh lays the bundle, the systemd unit, a config skeleton and the directories into a root;
 * and the installed bundle works as an agent.
 */
import { fork, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { HeartbeatReply, Reply } from '#shared/messages.ts';
import { LAUNCHER_ENV, type FromLauncher, type ToLauncher } from '#agent/many/command-launcher.ts';
import { newRunId } from '#shared/ids.ts';
import { startAgentHarness, STAGE, type AgentHarness } from '../helpers/agent-harness.ts';
import { signedRequest } from '../helpers/factories.ts';
import { ROOT } from '../helpers/processes.ts';
import { AWS_TEST_ENV } from '../helpers/env.ts';

const INSTALL = join(ROOT, 'agent', 'packaging', 'install.sh');
let root: string;
let elsewhere: string;

const mode = (path: string): string => (statSync(path).mode & 0o7777).toString(8);

beforeAll(() => {
  const build = spawnSync('npm', ['run', '--silent', 'build:agent'], { cwd: ROOT, encoding: 'utf8' });
  expect(build.status, build.stderr).toBe(0);
  root = mkdtempSync(join(tmpdir(), 'drover-root-'));
  elsewhere = mkdtempSync(join(tmpdir(), 'drover-bare-'));
}, 120_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

describe('the agent bundle', () => {
  it('runs with plain node from a directory without node_modules', () => {
    const bundle = join(elsewhere, 'drover-agent.mjs');
    copyFileSync(join(ROOT, 'dist', 'drover-agent.mjs'), bundle);

    const help = spawnSync(process.execPath, [bundle, '--help'], {
      cwd: elsewhere,
      encoding: 'utf8',
      env: {},
    });

    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: drover-agent [options]');
    expect(help.stdout).toContain('--config <file>');
    expect(readFileSync(bundle, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('is also the command launcher of a process that hosts many agents', async () => {
    const bundle = join(elsewhere, 'drover-agent.mjs');
    copyFileSync(join(ROOT, 'dist', 'drover-agent.mjs'), bundle);
    const launcher = fork(bundle, [], {
      cwd: elsewhere,
      env: { [LAUNCHER_ENV]: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    try {
      const messages: FromLauncher[] = [];
      const done = new Promise<void>((resolve) =>
        launcher.on('message', (m: FromLauncher) => {
          messages.push(m);
          if (m.type === 'done') resolve();
        }),
      );
      const run: ToLauncher = {
        type: 'run',
        id: 7,
        command: { shell: 'echo "$X"; exit 4' },
        options: { timeoutSec: 10, env: { X: 'bundled' } },
      };
      launcher.send(run);
      await done;
      expect(messages.map((m) => m.type)).toEqual(['started', 'done']);
      expect(messages[1]).toMatchObject({ id: 7, result: { exitCode: 4, stdout: { text: 'bundled\n' } } });

      const exited = new Promise((resolve) => launcher.once('exit', resolve));
      launcher.disconnect();
      expect(await exited).toBe(0);
    } finally {
      if (launcher.exitCode === null) launcher.kill('SIGKILL');
    }
  });
});

describe('install.sh', () => {
  it('lays down the bundle, the unit, the config skeleton and the directories, with their modes', () => {
    const run = spawnSync('sh', [INSTALL, '--root', root], { encoding: 'utf8' });

    expect(run.status, run.stderr).toBe(0);
    expect(mode(join(root, 'usr/lib/drover/drover-agent.mjs'))).toBe('755');
    const installed = readFileSync(join(root, 'usr/lib/drover/drover-agent.mjs'));
    expect(installed.equals(readFileSync(join(ROOT, 'dist/drover-agent.mjs')))).toBe(true);
    expect(lstatSync(join(root, 'usr/bin/drover-agent')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(root, 'usr/bin/drover-agent'))).toBe('/usr/lib/drover/drover-agent.mjs');
    expect(mode(join(root, 'etc/systemd/system/drover-agent.service'))).toBe('644');
    expect(mode(join(root, 'etc/drover'))).toBe('750');
    expect(mode(join(root, 'etc/drover/agent.yaml'))).toBe('640');
    expect(mode(join(root, 'var/lib/drover'))).toBe('700');
  });

  it('installs a unit that restarts on failure, logs to journald and leaves the grace to the agent', () => {
    const unit = readFileSync(join(root, 'etc/systemd/system/drover-agent.service'), 'utf8');

    expect(unit).toMatch(
      /^ExecStart=.* \/usr\/lib\/drover\/drover-agent\.mjs --config \/etc\/drover\/agent\.yaml$/m,
    );
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^StandardOutput=journal$/m);
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(Number(/^TimeoutStopSec=(\d+)s$/m.exec(unit)?.[1])).toBeGreaterThan(30);
    expect(unit).toMatch(/^StateDirectory=drover$/m);
    expect(unit).not.toMatch(/^(NoNewPrivileges=yes|ProtectSystem=|PrivateUsers=yes)/m);
  });

  it.skipIf(spawnSync('systemd-analyze', ['--version']).status !== 0)(
    'installs a unit systemd-analyze accepts',
    () => {
      const verify = spawnSync(
        'systemd-analyze',
        ['verify', join(root, 'etc/systemd/system/drover-agent.service')],
        {
          encoding: 'utf8',
        },
      );

      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stderr).not.toMatch(/Unknown key|Invalid|Failed to parse/);
    },
  );

  it('keeps an existing config when installed again', () => {
    const config = join(root, 'etc/drover/agent.yaml');
    writeFileSync(config, 'stage: mine\n');

    const run = spawnSync('sh', [INSTALL, '--root', root], { encoding: 'utf8' });

    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('kept existing');
    expect(readFileSync(config, 'utf8')).toBe('stage: mine\n');
  });

  it('says what is missing when there is no bundle', () => {
    const run = spawnSync('sh', [INSTALL, '--root', root, '--bundle', join(root, 'nope.mjs')], {
      encoding: 'utf8',
    });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no bundle found');
  });
});

describe('the installed agent', () => {
  let h: AgentHarness | undefined;

  afterAll(async () => {
    await h?.stop();
  });

  it('joins its stage, runs a command and stops cleanly on SIGTERM', async () => {
    h = await startAgentHarness();
    const harness = h;
    const keyFile = join(root, 'etc/drover/signing.pub.pem');
    writeFileSync(keyFile, harness.publicKey.export({ type: 'spki', format: 'pem' }));
    const config = join(root, 'etc/drover/agent.yaml');
    writeFileSync(
      config,
      stringify({
        stage: STAGE,
        region: 'us-east-1',
        replies_queue_url: harness.repliesQueueUrl,
        public_key: keyFile,
        endpoints: { sqs: harness.agentEndpoint },
        ec2: 'never',
        identity: 'installed-1',
        state_dir: join(root, 'var/lib/drover'),
        poll_wait_sec: 1,
      }),
    );
    const child = spawn(
      process.execPath,
      [join(root, 'usr/lib/drover/drover-agent.mjs'), '--config', config],
      {
        cwd: elsewhere,
        env: {
          PATH: process.env.PATH,
          ...AWS_TEST_ENV,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const heartbeat = (await harness.waitForReply((r) => r.type === 'heartbeat', 30_000)) as HeartbeatReply;
      const runId = newRunId();
      await harness.deliver(
        heartbeat.inbox,
        signedRequest({ runId, targets: ['installed-1'], command: { shell: 'echo $DROVER_IDENTITY' } }),
      );
      const result = await harness.waitForReply((r: Reply) => r.type === 'result' && r.runId === runId);

      child.kill('SIGTERM');

      expect(result).toMatchObject({ exitCode: 0, stdout: { text: 'installed-1\n' } });
      expect(await exited).toBe(0);
      expect(statSync(join(root, 'var/lib/drover/audit.jsonl')).size).toBeGreaterThan(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});
