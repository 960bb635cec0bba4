/**
 * The agent rides out what AWS endpoints do on a bad day, without a restart: throttling,
 * connection resets, the endpoint going away and coming back (empty, as the emulator restarts),
 * its inbox being deleted, and messages that are not requests at all.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeartbeatReply, ResultReply } from '#shared/messages.ts';
import { newRunId } from '#shared/ids.ts';
import type { Agent } from '#agent/agent.ts';
import { startAgentHarness, type AgentHarness, isResult } from '../helpers/agent-harness.ts';
import { signedRequest } from '../helpers/factories.ts';
import { waitUntil } from '../helpers/wait.ts';

let h: AgentHarness | undefined;

afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Sends `echo ok` to the agent and waits for its successful result. */
async function runsACommand(harness: AgentHarness, agent: Agent, timeoutMs = 20_000): Promise<ResultReply> {
  const runId = newRunId();
  await harness.deliver(
    agent.inboxUrl,
    signedRequest({ runId, targets: [agent.settings.nodeId], command: { shell: 'echo ok' } }),
  );
  return harness.waitForReply(isResult(runId), timeoutMs);
}

describe('agent resilience', () => {
  it('keeps polling through throttled receives and then runs requests', async () => {
    // Prepare
    h = await startAgentHarness({ proxy: true });
    const agent = await h.startAgent({ nodeId: 'throttled-1' });
    h.proxy!.fail('throttle', 'ReceiveMessage');
    await waitUntil(() => h!.proxy!.faults.length >= 4, 'several throttled receives');

    // Act
    h.proxy!.fail('none');
    const result = await runsACommand(h, agent);

    // Assess
    expect(result).toMatchObject({ exitCode: 0, stdout: { text: 'ok\n' } });
    expect(h.logs.some((l) => l.message === 'receive failed; backing off')).toBe(true);
  });

  it('recovers from connection resets on every call, replies included', async () => {
    // Prepare
    h = await startAgentHarness({ proxy: true });
    const agent = await h.startAgent({ nodeId: 'reset-1' });
    const runId = newRunId();
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId, targets: ['reset-1'], command: { shell: 'sleep 0.5; echo done' } }),
    );
    await h.waitForReply((r) => r.type === 'ack' && r.runId === runId);

    // Act: the result is due while every connection is being reset.
    h.proxy!.fail('reset');
    await waitUntil(
      () => h!.proxy!.faults.some((f) => f.endsWith('SendMessageBatch')),
      'a reset result send',
    );
    h.proxy!.fail('none');

    // Assess
    expect(await h.waitForReply(isResult(runId))).toMatchObject({ exitCode: 0, stdout: { text: 'done\n' } });
    expect((await runsACommand(h, agent)).exitCode).toBe(0);
  });

  it('waits out the SQS endpoint going away and recreates its inbox when it comes back empty', async () => {
    // Prepare
    h = await startAgentHarness();
    const agent = await h.startAgent({ nodeId: 'outage-1' });
    const inbox = agent.inboxUrl;

    // Act
    await h.stopSqs();
    await waitUntil(
      () => h!.logs.some((l) => l.message === 'receive failed; backing off'),
      'a failed receive',
    );
    await new Promise((r) => setTimeout(r, 1_000));
    await h.restartSqs();

    // Assess
    const heartbeat = (await h.waitForReply(
      (r) => r.type === 'heartbeat' && r.nodeId === 'outage-1',
      30_000,
    )) as HeartbeatReply;
    expect(heartbeat.inbox).toBe(inbox);
    expect(h.logs.some((l) => l.message === 'inbox queue is gone: recreating it')).toBe(true);
    expect((await runsACommand(h, agent)).exitCode).toBe(0);
  });

  it('recreates a deleted inbox queue, announces it, and keeps working', async () => {
    // Prepare
    h = await startAgentHarness();
    const agent = await h.startAgent({ nodeId: 'deleted-1' });
    await h.waitForReply((r) => r.type === 'heartbeat');
    h.replies.length = 0;

    // Act
    await h.sqs.send(new DeleteQueueCommand({ QueueUrl: agent.inboxUrl }));

    // Assess
    await h.waitForReply((r) => r.type === 'heartbeat' && r.nodeId === 'deleted-1', 20_000);
    const attributes = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: agent.inboxUrl, AttributeNames: ['All'] }),
    );
    expect(attributes.Attributes?.VisibilityTimeout).toBe('60');
    expect((await runsACommand(h, agent)).exitCode).toBe(0);
  });

  it('deletes, logs and audits malformed and random messages, runs none, and keeps polling', async () => {
    // Prepare
    h = await startAgentHarness();
    const executed: unknown[] = [];
    const agent = await h.startAgent(
      { nodeId: 'fuzz-1' },
      {
        execute: async (command, options) => {
          executed.push(command);
          const { executeCommand } = await import('#agent/execute/executor.ts');
          return executeCommand(command, options);
        },
      },
    );
    // The authentic original runs once; any mutation that is still authentic is then a replay.
    const runId = newRunId();
    const document = JSON.stringify(
      signedRequest({ runId, targets: ['fuzz-1'], command: { shell: 'true' } }),
    );
    const valid = JSON.stringify({
      v: 1,
      nodeId: 'fuzz-1',
      request: document,
      signature: await h.signer.sign(document),
    });
    await h.send(agent.inboxUrl, valid);
    await h.waitForReply(isResult(runId));
    const bodies = [
      'not json',
      '{}',
      '[]',
      'null',
      '{"v":1}',
      JSON.stringify({
        v: 1,
        nodeId: 'fuzz-1',
        request: '{}',
        signature: { keyId: 'k', alg: 'ECDSA_SHA_256', value: 'AA==' },
      }),
      valid.replace('"shell":"true"', '"shell":"touch /tmp/drover-pwned"'),
      valid.replace(`"nodeId":"fuzz-1"`, `"nodeId":"fuzz-2"`),
      ...Array.from({ length: 40 }, (_, i) => mutate(valid, i)),
    ];

    // Act
    for (const body of bodies) await h.send(agent.inboxUrl, body);
    await waitUntil(() => auditLines(agent).length >= bodies.length + 1, 'every message audited', 30_000);

    // Assess
    expect(executed).toHaveLength(1);
    expect(
      auditLines(agent)
        .slice(1)
        .every((a) => a.decision === 'dropped'),
    ).toBe(true);
    const queue = await h.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: agent.inboxUrl, AttributeNames: ['All'] }),
    );
    expect(queue.Attributes?.ApproximateNumberOfMessages).toBe('0');
    expect(queue.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe('0');
    expect((await runsACommand(h, agent)).exitCode).toBe(0);
    expect(executed).toHaveLength(2);
  });
});

function auditLines(agent: Agent): Record<string, unknown>[] {
  const file = join(agent.settings.stateDir, 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A copy of `text` with a few characters changed, deterministically by `seed`. */
function mutate(text: string, seed: number): string {
  const chars = [...text];
  let state = seed * 7919 + 17;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 1 + (seed % 4); i++) {
    const at = Math.floor(next() * chars.length);
    chars[at] = String.fromCharCode(32 + Math.floor(next() * 95));
  }
  return chars.join('');
}
