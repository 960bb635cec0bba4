/**
 * The ack delay against a real agent and a real SQS emulator: a command that finishes within the
 * delay of its start is answered by its result alone; a longer one is acked when the delay runs
 * out, and its result follows the ack; one that cannot start is acked at its deadline anyway.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Reply } from '#shared/messages.ts';
import { newRunId } from '#shared/ids.ts';
import { executeCommand } from '#agent/execute/executor.ts';
import type { AgentDeps } from '#agent/agent.ts';
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
async function runOn(
  nodeId: string,
  ackDelayMs: number,
  shell: string,
  deps: Partial<AgentDeps> = {},
): Promise<string> {
  const agent = await h.startAgent({ nodeId, ackDelayMs }, deps);
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

  it('counts the delay from the start: a quick command that waited to be spawned is answered by its result alone', async () => {
    // Arrange: the command starts 1.5 s after receipt (as behind a busy command launcher), well
    // past the 0.3 s delay counted from receipt, and within the 2 s deadline.
    const slowToStart: AgentDeps['execute'] = async (command, options) => {
      await new Promise((r) => setTimeout(r, 1_500));
      return executeCommand(command, options);
    };

    // Act: `echo` ends within the delay of its start, even on a busy machine (the delay is long).
    const runId = await runOn('acks-3', 300, 'echo late', { execute: slowToStart });
    await h.waitForReply((r) => forRun(runId)(r) && r.type === 'result');
    await new Promise((r) => setTimeout(r, 1_000));
    await h.collectReplies();

    // Assess
    expect(h.replies.filter(forRun(runId)).map((r) => r.type)).toEqual(['result']);
  });

  it('acks a request whose command cannot start yet (every slot busy) at its deadline, before it runs', async () => {
    // Arrange: one slot, taken by a long command.
    const agent = await h.startAgent({ nodeId: 'acks-4', ackDelayMs: 100, concurrency: 1 });
    const [first, second] = [newRunId(), newRunId()];
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: first, targets: ['acks-4'], command: { shell: 'sleep 8' } }),
    );
    await h.waitForReply((r) => forRun(first)(r) && r.type === 'ack');

    // Act: the second waits for the slot; its ack cannot count from a start that has not happened.
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: second, targets: ['acks-4'], command: { shell: 'echo b' } }),
    );
    await h.waitForReply((r) => forRun(second)(r) && r.type === 'ack', 6_000);

    // Assess: acked while the first still runs, so its own command has not started.
    await h.collectReplies();
    expect(h.replies.filter(forRun(first)).map((r) => r.type)).toEqual(['ack']);
    expect(h.replies.filter(forRun(second)).map((r) => r.type)).toEqual(['ack']);
  }, 20_000);

  it('acks a waiting request sooner when little is left of its window: within it, not 2 s after receipt', async () => {
    // Arrange: one slot, taken by a long command.
    const agent = await h.startAgent({ nodeId: 'acks-5', ackDelayMs: 100, concurrency: 1 });
    const [first, second] = [newRunId(), newRunId()];
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: first, targets: ['acks-5'], command: { shell: 'sleep 8' } }),
    );
    await h.waitForReply((r) => forRun(first)(r) && r.type === 'ack');

    // Act: a request with 1.8 s left: its deadline is half of what is left less the skew second (0.4 s).
    const expiresAt = Date.now() + 1_800;
    await h.deliver(
      agent.inboxUrl,
      signedRequest({ runId: second, targets: ['acks-5'], command: { shell: 'echo b' }, expiresAt }),
    );
    const ack = await h.waitForReply((r) => forRun(second)(r) && r.type === 'ack', 6_000);

    // Assess: sent before the request expired (the run waits a second longer still).
    expect(ack.sentAt).toBeLessThan(expiresAt);
  }, 20_000);
});
