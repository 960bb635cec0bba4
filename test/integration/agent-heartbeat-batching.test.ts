/**
 * The periodic heartbeats of agents sharing a process wait up to a second for company and go out
 * together (ReplyBatcher's linger), against the real SQS emulator: none is lost, and a call
 * carries several; the first heartbeat of an agent, which makes it known, does not wait.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { HeartbeatReply } from '#shared/messages.ts';
import { ReplyBatcher } from '#agent/reply/reply-batcher.ts';
import { startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

let h: AgentHarness | undefined;

afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** The harness's client, recording the bodies of every SendMessageBatch call it makes. */
function recording(sqs: SQSClient): { client: SQSClient; calls: string[][] } {
  const calls: string[][] = [];
  const client = {
    send: (command: SendMessageBatchCommand) => {
      if (command instanceof SendMessageBatchCommand)
        calls.push(command.input.Entries!.map((e) => e.MessageBody!));
      return sqs.send(command);
    },
  } as unknown as SQSClient;
  return { client, calls };
}

const heartbeatsIn = (bodies: string[]) =>
  bodies.map((b) => JSON.parse(b) as { type: string; nodeId: string }).filter((r) => r.type === 'heartbeat');

describe('heartbeats of agents sharing a process', () => {
  it('are all sent, several to a call, and an agent’s first one at once', async () => {
    // Arrange: four agents beating every second, sharing one batcher as `--hosts` agents do.
    h = await startAgentHarness();
    const { client, calls } = recording(h.sqs);
    const replies = new ReplyBatcher(client, h.repliesQueueUrl);
    const nodes = ['hb-1', 'hb-2', 'hb-3', 'hb-4'];

    // Act
    for (const nodeId of nodes) await h.startAgent({ nodeId, heartbeatSec: 1 }, { replies });
    const firstCalls = calls.length;
    await new Promise((r) => setTimeout(r, 4_000));
    await h.collectReplies();

    // Assess: each start sent its first heartbeat in a call of its own before start() returned.
    expect(firstCalls).toBe(nodes.length);
    const periodic = calls
      .slice(firstCalls)
      .map(heartbeatsIn)
      .filter((beats) => beats.length > 0);
    const sent = periodic.flat();
    // 3 or 4 beats each in 4 s (the first interval jittered); the linger holds them at most 1 s.
    for (const nodeId of nodes)
      expect(sent.filter((b) => b.nodeId === nodeId).length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...periodic.map((beats) => beats.length))).toBeGreaterThan(1);
    expect(periodic.length).toBeLessThan(sent.length);
    // And SQS has every one of them.
    const received = h.replies.filter((r): r is HeartbeatReply => r.type === 'heartbeat');
    expect(received.length).toBeGreaterThanOrEqual(firstCalls + sent.length - 10);
  }, 30_000);
});
