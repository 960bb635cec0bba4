/**
 * An agent whose dedupe store is damaged stops with an error naming the file, instead of starting
 * with an empty memory and running again requests it already ran. The agent as installed (the
 * standalone command with a config file), against a real SQS emulator.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startAgentHarness, STAGE, type AgentHarness } from '../helpers/agent-harness.ts';
import { ROOT } from '../helpers/processes.ts';
import { testEnv } from '../helpers/env.ts';

let h: AgentHarness;

beforeEach(async () => {
  h = await startAgentHarness();
});

afterEach(async () => {
  await h.stop();
});

describe('an agent with a damaged dedupe store', () => {
  it('stops at start with an error naming the file, and never polls', async () => {
    // Prepare: a store with a line that is not a record, between good ones.
    const stateDir = join(h.dir, 'state');
    mkdirSync(stateDir, { recursive: true });
    const good = (k: string) => JSON.stringify({ k, s: 'done', t: Date.now() }) + '\n';
    writeFileSync(join(stateDir, 'dedupe.jsonl'), good('RUN1#0') + 'garbage\n' + good('RUN2#0'));
    const keyFile = join(h.dir, 'signing.pub.pem');
    writeFileSync(keyFile, h.publicKey.export({ type: 'spki', format: 'pem' }));
    const config = join(h.dir, 'agent.yaml');
    writeFileSync(
      config,
      stringify({
        stage: STAGE,
        region: 'us-east-1',
        replies_queue_url: h.repliesQueueUrl,
        public_key: keyFile,
        endpoints: { sqs: h.agentEndpoint },
        ec2: 'never',
        identity: 'damaged-1',
        state_dir: stateDir,
        poll_wait_sec: 1,
      }),
    );

    // Act
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'agent', 'standalone.ts'), '--config', config],
      {
        cwd: ROOT,
        env: testEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    await h.collectReplies();

    // Assess
    expect(code).toBe(1);
    expect(output).toMatch(/dedupe\.jsonl is damaged \(line 2 is not a record\)/);
    expect(h.replies).toEqual([]);
  });
});
