/**
 * Facts too large for a heartbeat (one SQS message, one host record in DynamoDB): an agent refuses
 * to start with them, saying so, rather than running as a host that never joins; a running agent
 * whose facts grow too large keeps the ones it had.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FACTS_BYTES, type HeartbeatReply, type Reply } from '#shared/messages.ts';
import { AgentConfigError } from '#agent/setup/config.ts';
import { startAgentHarness, type AgentHarness } from '../helpers/agent-harness.ts';

let h: AgentHarness;

beforeEach(async () => {
  h = await startAgentHarness();
});

afterEach(async () => {
  await h.stop();
});

const HUGE = JSON.stringify({ role: 'web', blob: 'x'.repeat(MAX_FACTS_BYTES) });

const heartbeatOf =
  (nodeId: string, after: number) =>
  (r: Reply): r is HeartbeatReply =>
    r.type === 'heartbeat' && r.nodeId === nodeId && r.sentAt >= after;

describe('facts too large for a heartbeat', () => {
  it('keep the agent from starting, with the size and what to trim', async () => {
    const facts = join(h.dir, 'huge.json');
    writeFileSync(facts, HUGE);

    const started = h.startAgent({ nodeId: 'huge-1', factFiles: [facts] });

    await expect(started).rejects.toThrow(AgentConfigError);
    await expect(started).rejects.toThrow(
      new RegExp(
        `^huge-1: facts and classes take \\d+ bytes as JSON, more than the ${MAX_FACTS_BYTES} .*trim the fact files`,
      ),
    );
  });

  it('found on a refresh leave the agent with its previous facts, and are logged', async () => {
    const facts = join(h.dir, 'growing.json');
    writeFileSync(facts, JSON.stringify({ role: 'web' }));
    const agent = await h.startAgent({ nodeId: 'growing-1', factFiles: [facts] });
    writeFileSync(facts, HUGE);
    const before = Date.now();

    await agent.refreshFacts();
    await agent.sendHeartbeat();

    const heartbeat = await h.waitForReply(heartbeatOf('growing-1', before));
    expect(heartbeat.facts).toMatchObject({ role: 'web' });
    expect(heartbeat.facts).not.toHaveProperty('blob');
    expect(h.logs.find((l) => l.message === 'facts not refreshed; keeping the previous ones')).toMatchObject({
      level: 'error',
      problem: expect.stringContaining(`more than the ${MAX_FACTS_BYTES}`),
    });
  });
});
