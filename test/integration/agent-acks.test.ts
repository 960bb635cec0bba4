/**
 * The ack delay against a real agent and a real SQS emulator: a command that finishes within the
 * delay is answered by its result alone; a longer one is acked when the delay runs out, and its
 * result follows the ack.
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

/** Starts agent `nodeId` with this ack delay and delivers it `shell`; returns the run id. */
async function runOn(nodeId: string, ackDelayMs: number, shell: string): Promise<string> {
  const agent = await h.startAgent({ nodeId, ackDelayMs });
  const runId = newRunId();
  await h.deliver(agent.inboxUrl, signedRequest({ runId, targets: [nodeId], command: { shell } }));
  return runId;
}

describe('the ack delay', () => {
  it('answers a command that finishes within the delay with its result alone, and never acks it', async () => {
    // Act: a delay far longer than `echo` takes, even on a busy machine.
    const runId = await runOn('acks-1', 1_500, 'echo quick');
    await h.waitForReply((r) => forRun(runId)(r) && r.type === 'result');
    // Past the moment the ack would have been sent had the result not cancelled it.
    await new Promise((r) => setTimeout(r, 2_000));
    await h.collectReplies();

    // Assess
    const replies = h.replies.filter(forRun(runId));
    expect(replies.map((r) => r.type)).toEqual(['result']);
    expect(replies[0]).toMatchObject({ exitCode: 0, stdout: { text: 'quick\n' } });
  });

  it('acks a command that outlives the delay when the delay runs out, and sends its result after the ack', async () => {
    // Act
    const runId = await runOn('acks-2', 100, 'sleep 2; echo slow');
    await h.waitForReply((r) => forRun(runId)(r) && r.type === 'ack');
    const beforeResult = h.replies.filter(forRun(runId)).map((r) => r.type);
    await h.waitForReply((r) => forRun(runId)(r) && r.type === 'result');

    // Assess
    expect(beforeResult).toEqual(['ack']);
    expect(h.replies.filter(forRun(runId)).map((r) => r.type)).toEqual(['ack', 'result']);
  });
});
