/**
 * `cancel` requests against a real agent and a real SQS emulator: a running command is killed
 * (its whole process group), a waiting one never starts, one that has not arrived never runs,
 * and the cancel itself never gets a reply of its own.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newRunId } from '#shared/ids.ts';
import type { Agent } from '#agent/agent.ts';
import { startAgentHarness, type AgentHarness, isResult } from '../helpers/agent-harness.ts';
import { signedRequest } from '../helpers/factories.ts';
import { waitUntil } from '../helpers/wait.ts';
import { isAlive } from '../helpers/processes.ts';

let h: AgentHarness;

beforeEach(async () => {
  h = await startAgentHarness();
});

afterEach(async () => {
  await h.stop();
});

const audit = (agent: Agent): Record<string, unknown>[] =>
  readFileSync(join(agent.settings.stateDir, 'audit.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cancel', () => {
  it('kills a running sleep and its children, and reports the result as cancelled', async () => {
    // Prepare: a sleep that also starts a child in the background, both recording their pids.
    const agent = await h.startAgent({ nodeId: 'cancel-1' });
    const runId = newRunId();
    const pids = join(h.dir, 'pids');
    await h.deliver(
      agent.inboxUrl,
      signedRequest({
        runId,
        targets: ['cancel-1'],
        timeoutSec: 60,
        command: { shell: `sleep 60 & echo $! >> ${pids}; echo $$ >> ${pids}; sleep 60` },
      }),
    );
    await waitUntil(() => existsSync(pids) && readFileSync(pids, 'utf8').trim().split('\n').length === 2);
    const started = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    const cancelledAt = Date.now();

    // Act
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId, action: 'cancel', command: undefined, targets: ['cancel-1'] }),
    );

    // Assess
    const result = await h.waitForReply(isResult(runId));
    expect(result).toMatchObject({ cancelled: true, exitCode: null, signal: 'SIGTERM', error: 'cancelled' });
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    await waitUntil(() => started.every((pid) => !isAlive(pid)), 'the process group to be gone', 5_000);
    await h.collectReplies();
    const forRun = h.replies.filter((r) => 'runId' in r && r.runId === runId).map((r) => r.type);
    expect(forRun.sort()).toEqual(['ack', 'result']);
    const cancelLine = audit(agent).find((a) => a.action === 'cancel');
    expect(cancelLine).toMatchObject({
      decision: 'accepted',
      runId,
      outcome: 'stopping the running command',
    });
  });

  it('keeps a command waiting for a slot from ever starting and reports it cancelled at once', async () => {
    // Prepare: one slot, taken by a long sleep; the second request waits behind it.
    const agent = await h.startAgent({ nodeId: 'cancel-2', concurrency: 1 });
    const blocker = newRunId();
    const waiting = newRunId();
    const marker = join(h.dir, 'waiting-ran');
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: blocker, targets: ['cancel-2'], command: { shell: 'sleep 60' } }),
    );
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: waiting, targets: ['cancel-2'], command: { shell: `touch ${marker}` } }),
    );
    await h.waitForReply((r) => r.type === 'ack' && r.runId === waiting);

    // Act
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: waiting, action: 'cancel', command: undefined, targets: ['cancel-2'] }),
    );

    // Assess
    const result = await h.waitForReply(isResult(waiting));
    expect(result).toMatchObject({ cancelled: true, exitCode: null, error: 'cancelled before it started' });
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: blocker, action: 'cancel', command: undefined, targets: ['cancel-2'] }),
    );
    await h.waitForReply(isResult(blocker));
    await new Promise((r) => setTimeout(r, 300));
    expect(existsSync(marker)).toBe(false);
  });

  it('never runs a request whose cancel arrived first', async () => {
    // Prepare
    const agent = await h.startAgent({ nodeId: 'cancel-3' });
    const runId = newRunId();
    const marker = join(h.dir, 'late-ran');
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId, action: 'cancel', command: undefined, targets: ['cancel-3'] }),
    );
    await waitUntil(() => existsSync(join(agent.settings.stateDir, 'audit.jsonl')));

    // Act
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId, targets: ['cancel-3'], command: { shell: `touch ${marker}` } }),
    );

    // Assess
    await waitUntil(() => audit(agent).length === 2, 'the request to be audited', 10_000);
    expect(audit(agent)).toMatchObject([
      { decision: 'accepted', action: 'cancel', outcome: 'the request has not arrived: it will not run' },
      { decision: 'dropped', action: 'exec', reason: 'cancelled before it arrived' },
    ]);
    expect(existsSync(marker)).toBe(false);
    await h.collectReplies();
    expect(h.replies.filter((r) => 'runId' in r && r.runId === runId)).toEqual([]);
  });
});
