/**
 * An agent started with its stage name alone reads the rest of its configuration from the stage's
 * SSM parameter (`/drover/<stage>/agent`), here the local stack's, through the real SSM client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { stringify } from 'yaml';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { ROOT, stopChildren } from '../helpers/processes.ts';
import { testEnv } from '../helpers/env.ts';
import { localAgentKey } from '#shared/local-principals.ts';

let t: TestStack;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await startTestStack();
  dir = mkdtempSync(join(tmpdir(), 'drover-agent-param-'));
}, 60_000);
afterAll(async () => {
  await stopChildren(children, (child) => child.kill('SIGKILL'));
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `drover agent --config <file>` with only the stage, endpoints and who it is. */
function startAgent(
  name: string,
  stage: string,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const config = join(dir, `${name}.yaml`);
  writeFileSync(
    config,
    stringify({
      stage,
      region: t.stack.file.region,
      identity: name,
      ec2: 'never',
      state_dir: join(dir, name),
      endpoints: { sqs: t.stack.file.endpoints.sqs, ssm: t.stack.file.endpoints.ssm },
    }),
  );
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'drover.js'), 'agent', '--config', config], {
    env: testEnv({
      // Signs as the local agent role's session named after the node, as an instance role session
      // is named after its instance: ingest refuses replies from a sender not bound to the node.
      AWS_ACCESS_KEY_ID: localAgentKey([name]),
      DROVER_HOME: join(dir, 'no-home'),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => output, exited };
}

describe('agent configuration from SSM Parameter Store', () => {
  it('joins its stage knowing only the stage name', async () => {
    startAgent('ssm-1', 'local');
    const node = await eventually(
      async () =>
        (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId: 'ssm-1' } })))
          .Item,
      30_000,
      'the agent to join',
    );
    expect(node).toMatchObject({ identity: 'ssm-1', status: 'active' });
  }, 60_000);

  it('refuses to start, naming the parameter, when the stage publishes none', async () => {
    const agent = startAgent('ssm-2', 'nope');
    expect(await agent.exited).not.toBe(0);
    expect(agent.output()).toContain('/drover/nope/agent');
  }, 60_000);
});
