/**
 * A real agent echoes the dispatch group of the signed request in every reply it sends for it
 * (ack, result, rejection), so ingest counts the reply on that group's tally; a request signed
 * without a group (a control plane older than groups) gets replies without one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '#shared/messages.ts';
import { newRunId } from '#shared/ids.ts';
import { startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';
import { signedRequest } from '../helpers/factories.ts';

let h: AgentHarness;

beforeEach(async () => {
  h = await startAgentHarness();
});

afterEach(async () => {
  await h.stop();
});

const forRun = (runId: string) => (r: Reply) => 'runId' in r && r.runId === runId;

describe('the dispatch group in replies', () => {
  it('is echoed in the ack and the result of a request that names it', async () => {
    const agent = await h.startAgent({ nodeId: 'echo-1', ackDelayMs: 0 });
    const runId = newRunId();
    await h.deliver(agent.inboxUrl, signedRequest({ runId, batch: 2, group: 37, targets: ['echo-1'] }));
    await h.waitForReply((r) => forRun(runId)(r) && r.type === 'result');
    await h.collectReplies();

    const replies = h.replies.filter(forRun(runId));
    expect(replies.map((r) => r.type).sort()).toEqual(['ack', 'result']);
    for (const reply of replies) expect(reply).toMatchObject({ batch: 2, group: 37 });
  });

  it('is echoed in a rejection', async () => {
    const agent = await h.startAgent({ nodeId: 'echo-2', ackDelayMs: 0 });
    const runId = newRunId();
    const expired = Date.now() - 1_000;
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId, group: 4, targets: ['echo-2'], issuedAt: expired - 60_000, expiresAt: expired }),
    );
    await h.waitForReply((r) => forRun(runId)(r) && r.type === 'rejected');

    expect(h.replies.find(forRun(runId))).toMatchObject({ type: 'rejected', group: 4 });
  });

  it('is left out when the request names none', async () => {
    const agent = await h.startAgent({ nodeId: 'echo-3', ackDelayMs: 0 });
    const runId = newRunId();
    await h.deliver(agent.inboxUrl, signedRequest({ runId, targets: ['echo-3'] }));
    await h.waitForReply((r) => forRun(runId)(r) && r.type === 'result');
    await h.collectReplies();

    for (const reply of h.replies.filter(forRun(runId))) expect('group' in reply).toBe(false);
  });
});
