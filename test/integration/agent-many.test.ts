/**
 * Many logical agents in one process (`--hosts`), as load tests and the benchmark run them: each
 * with its own identity, facts and inbox, all sharing one SQS client (one connection per long
 * poll, not several per agent), their heartbeats spread over the interval rather than in step.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeartbeatReply } from '#shared/messages.ts';
import { newRunId } from '#shared/ids.ts';
import { main, type RunningAgents } from '#agent/main.ts';
import { startAgentHarness, STAGE, type AgentHarness } from '../helpers/agent-harness.ts';
import { signedRequest } from '../helpers/factories.ts';

const AGENTS = 120;
let h: AgentHarness | undefined;
let running: RunningAgents | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
  await h?.stop();
  h = undefined;
});

describe('many agents in one process', () => {
  it('brings up every agent with its own identity and facts, over a bounded number of connections', async () => {
    // Prepare
    h = await startAgentHarness({ proxy: true });
    const harness = h;
    const keyFile = join(harness.dir, 'key.pem');
    writeFileSync(keyFile, harness.publicKey.export({ type: 'spki', format: 'pem' }));
    const hosts = Array.from({ length: AGENTS }, (_, i) => {
      const facts = join(harness.dir, `host-${i}.yaml`);
      writeFileSync(facts, `index: ${i}\nrole: ${i % 2 ? 'web' : 'db'}\n`);
      return { identity: `host-${i}`, facts: [facts] };
    });
    const hostsFile = join(harness.dir, 'hosts.json');
    writeFileSync(hostsFile, JSON.stringify(hosts));
    const config = join(harness.dir, 'agent.yaml');
    writeFileSync(config, '# everything from flags\n');
    const started = Date.now();

    // Act
    running = await main(
      {
        config,
        hosts: hostsFile,
        stage: STAGE,
        region: 'us-east-1',
        repliesQueueUrl: harness.repliesQueueUrl,
        publicKey: keyFile,
        sqsEndpoint: harness.agentEndpoint,
        stateDir: join(harness.dir, 'state'),
        heartbeat: 4,
        pollWait: 2,
      },
      { env: {}, dmiDir: join(harness.dir, 'no-dmi'), fetch, write: () => {} },
      { exit: () => {}, handleSignals: false },
    );

    // Assess: everyone joined with its own facts, and heartbeats again within the interval.
    await new Promise((r) => setTimeout(r, 4_500));
    const beats = new Map<string, HeartbeatReply[]>();
    for (let i = 0; i < 200 && [...beats.values()].filter((b) => b.length >= 2).length < AGENTS; i++) {
      await harness.collectReplies();
      beats.clear();
      for (const r of harness.replies)
        if (r.type === 'heartbeat') beats.set(r.nodeId, [...(beats.get(r.nodeId) ?? []), r]);
    }
    expect(beats.size).toBe(AGENTS);
    expect(beats.get('host-7')![0]!.facts).toMatchObject({ index: 7, role: 'web', identity: 'host-7' });
    const second = [...beats.values()].map((b) => b[1]!.sentAt - started).sort((a, b) => a - b);
    expect(second.at(-1)! - second[0]!, 'second heartbeats spread over the interval').toBeGreaterThan(1_500);
    expect(harness.proxy!.connections()).toBeLessThan(AGENTS + 40);

    const agent = running.agents[42]!;
    const runId = newRunId();
    await harness.deliver(
      agent.inboxUrl,
      signedRequest({ runId, targets: ['host-42'], command: { shell: 'echo $DROVER_IDENTITY' } }),
    );
    const result = await harness.waitForReply((r) => r.type === 'result' && r.runId === runId, 30_000);
    expect(result).toMatchObject({ nodeId: 'host-42', stdout: { text: 'host-42\n' } });
  });
});
