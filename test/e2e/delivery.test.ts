/**
 * At most once, end to end: redelivered, expired, replayed-after-restart requests and hosts that
 * die with their inbox still registered. Real agent processes; requests signed with the stack's key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { LocalKeySigner } from '#shared/signing.ts';
import { MESSAGE_VERSION, type SignedRequest } from '#shared/messages.ts';
import { newRunId } from '#shared/ids.ts';
import type { NodeItem } from '#shared/runs-table.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { startAgent, stopAll, type AgentProcess, type AgentSpec } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { signedRequest } from '../helpers/factories.ts';

let t: TestStack;
let signer: LocalKeySigner;

async function joined(spec: AgentSpec): Promise<{ agent: AgentProcess; node: NodeItem }> {
  const agent = startAgent(t.home, spec);
  const node = await eventually(
    async () =>
      (
        await t.db.send(
          new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId: spec.identity } }),
        )
      ).Item as NodeItem | undefined,
    30_000,
    `${spec.identity} to join`,
  );
  return { agent, node };
}

async function deliver(node: NodeItem, request: SignedRequest, times = 1): Promise<void> {
  const document = JSON.stringify(request);
  const signature = await signer.sign(document);
  const body = JSON.stringify({ v: MESSAGE_VERSION, nodeId: node.nodeId, request: document, signature });
  for (let i = 0; i < times; i++) {
    await t.sqs.send(new SendMessageCommand({ QueueUrl: node.inbox, MessageBody: body }));
  }
}

const auditLines = (agent: AgentProcess): Record<string, unknown>[] => {
  const file = join(agent.stateDir, 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
};

const lines = (file: string): string[] =>
  existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];

beforeAll(async () => {
  t = await startTestStack();
  signer = new LocalKeySigner(
    'local-test',
    readFileSync(join(t.stack.file.stateDir, 'signing-key.pem'), 'utf8'),
  );
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('delivery', () => {
  it('runs a request delivered three times once', async () => {
    const { agent, node } = await joined({ identity: 'thrice-1', facts: { role: 'thrice' } });
    const marker = join(t.home, 'thrice.marker');

    await deliver(
      node,
      signedRequest({
        runId: newRunId(),
        targets: ['thrice-1'],
        command: { shell: `echo ran >> ${marker}` },
      }),
      3,
    );

    await eventually(
      async () => (auditLines(agent).length >= 3 ? true : undefined),
      15_000,
      'three audit lines',
    );
    expect(lines(marker)).toEqual(['ran']);
    const audit = auditLines(agent);
    expect(audit.filter((a) => a.decision === 'accepted')).toHaveLength(1);
    expect(
      audit.filter((a) => a.decision === 'dropped' && String(a.reason).startsWith('replay')),
    ).toHaveLength(2);
  });

  it('does not execute a request whose expiry has passed', async () => {
    const { agent, node } = await joined({ identity: 'late-1', facts: { role: 'late' } });
    const marker = join(t.home, 'expired.marker');
    const now = Date.now();

    await deliver(
      node,
      signedRequest({
        runId: newRunId(),
        targets: ['late-1'],
        issuedAt: now - 120_000,
        expiresAt: now - 60_000,
        command: { shell: `echo ran >> ${marker}` },
      }),
    );

    const audit = await eventually(async () => auditLines(agent)[0], 15_000, 'an audit line');
    expect(audit).toMatchObject({ decision: 'rejected' });
    expect(String(audit.reason)).toMatch(/^expired at/);
    expect(existsSync(marker)).toBe(false);
  });

  it('does not execute a request signed with another key', async () => {
    const { agent, node } = await joined({ identity: 'forged-1', facts: { role: 'forged' } });
    const marker = join(t.home, 'forged.marker');
    const { generateKeyPairSync } = await import('node:crypto');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const forger = new LocalKeySigner('attacker', String(other));
    const document = JSON.stringify(
      signedRequest({ targets: ['forged-1'], command: { shell: `echo ran >> ${marker}` } }),
    );
    const body = JSON.stringify({
      v: MESSAGE_VERSION,
      nodeId: 'forged-1',
      request: document,
      signature: await forger.sign(document),
    });

    await t.sqs.send(new SendMessageCommand({ QueueUrl: node.inbox, MessageBody: body }));

    const audit = await eventually(async () => auditLines(agent)[0], 15_000, 'an audit line');
    expect(audit).toMatchObject({ decision: 'dropped' });
    expect(String(audit.reason)).toContain('bad signature');
    expect(existsSync(marker)).toBe(false);
  });

  it('lists a killed host that is still in its heartbeat window under No response from', async () => {
    const { agent } = await joined({ identity: 'ghost-1', facts: { role: 'ghost' } });
    agent.process.kill('SIGKILL');
    await agent.exited;

    const r = await droverCli(t.home, ['run', 'true', '-F', 'role=ghost', '--dt', '2']);

    expect(r.code).toBe(3);
    expect(r.stdout).toContain('Got response from 0 out of 0/1 (discovered/expected)');
    expect(r.stdout).toContain('No response from:\n    ghost-1');
  });

  it('does not run a request again after the agent restarts between receiving and finishing it', async () => {
    const spec = { identity: 'phoenix-1', facts: { role: 'phoenix' } };
    const first = await joined(spec);
    const marker = join(t.home, 'phoenix.marker');
    const run = droverCli(t.home, [
      'run',
      `echo started >> ${marker}; sleep 3`,
      '-I',
      'phoenix-1',
      '--dt',
      '10',
      '-t',
      '20',
    ]);
    await eventually(
      async () => (lines(marker).length > 0 ? true : undefined),
      20_000,
      'the command to start',
    );
    const key = readFileSync(join(first.agent.stateDir, 'dedupe.jsonl'), 'utf8').match(/"k":"([^"]+)"/)![1]!;

    first.agent.process.kill('SIGKILL');
    await first.agent.exited;
    const second = startAgent(t.home, spec);
    // The same request arrives again, as SQS would redeliver it. Twice, a moment apart: the killed
    // agent's last long poll is still open on the queue's side and may swallow the first copy (as
    // SQS does with a receive whose client went away), leaving it invisible for the visibility timeout.
    const [runId, batch] = key.split('#');
    const replay = signedRequest({
      runId,
      batch: Number(batch),
      targets: ['phoenix-1'],
      command: { shell: `echo started >> ${marker}` },
    });
    await deliver(first.node, replay);
    await new Promise((r) => setTimeout(r, 300));
    await deliver(first.node, replay);
    await eventually(
      async () => (auditLines(second).some((a) => a.decision === 'dropped') ? true : undefined),
      20_000,
      'the replay to be dropped',
    );
    const result = await run;

    expect(lines(marker)).toEqual(['started']);
    expect(result.stdout).toContain('>>>>>> phoenix-1 exit code: (-):');
    expect(result.stdout).toContain('agent restarted while this command was running');
  });
});
