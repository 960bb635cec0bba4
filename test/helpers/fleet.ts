/**
 * Fleets for end-to-end tests of the CLI: real agents that have joined, and hosts written straight
 * into the facts table (a silent host that never answers, a stale one).
 */
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { inboxQueueName } from '#shared/stage-config.ts';
import { type TestStack } from './local-stack.ts';
import { eventually } from './wait.ts';
import { startAgent, type AgentSpec } from './processes.ts';
import { nodeItem } from './factories.ts';

/** Starts an agent per spec and waits until each has heartbeated into the facts table. */
export async function startFleet(t: TestStack, specs: readonly AgentSpec[]): Promise<void> {
  for (const spec of specs) startAgent(t.home, spec);
  for (const { identity } of specs) {
    await eventually(
      async () =>
        (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId: identity } })))
          .Item,
      30_000,
      `${identity} to join`,
    );
  }
}

/**
 * A host recorded as alive (it heartbeated just now, hourly) with a real inbox that nobody reads:
 * runs address it and it never answers. Returns a function that removes it.
 */
export async function addSilentHost(
  t: TestStack,
  identity: string,
  facts: Record<string, unknown> = { role: 'ghost' },
): Promise<() => Promise<void>> {
  const { QueueUrl } = await t.sqs.send(
    new CreateQueueCommand({ QueueName: inboxQueueName(t.stack.file.stage, identity) }),
  );
  await t.db.send(
    new PutCommand({
      TableName: t.stack.file.nodesTable,
      Item: nodeItem({
        nodeId: identity,
        identity,
        facts,
        classes: [],
        inbox: QueueUrl!,
        heartbeatSec: 3600,
        lastSeen: Date.now(),
        joinedAt: Date.now(),
        startedAt: Date.now(),
        expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      }),
    }),
  );
  return async () => {
    await t.db.send(new DeleteCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId: identity } }));
  };
}

/** A host last heard from an hour ago with a 60 s heartbeat: stale, so runs no longer pick it. */
export async function addStaleHost(
  t: TestStack,
  identity: string,
  facts: Record<string, unknown>,
): Promise<void> {
  await t.db.send(
    new PutCommand({
      TableName: t.stack.file.nodesTable,
      Item: nodeItem({
        nodeId: identity,
        identity,
        facts,
        classes: [],
        heartbeatSec: 60,
        lastSeen: Date.now() - 3_600_000,
        expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      }),
    }),
  );
}
