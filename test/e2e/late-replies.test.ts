/**
 * A reply to a run that already gave up on its host (finished, or cancelled) is recorded as
 * `late`, with its output, and changes nothing of the run's summary: never lost, never counted.
 * The real local stack, the CLI as a child process, replies sent to the stage's replies queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { META_SK } from '#shared/runs-table.ts';
import { createSqsClient } from '#shared/aws.ts';
import { localAgentKey } from '#shared/local-principals.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { addSilentHost } from '../helpers/fleet.ts';
import { resultReply } from '../helpers/factories.ts';
import { runNodeOf } from '../helpers/run-seed.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

async function item(runId: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await t.db.send(new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk } }))).Item;
}

async function replyLate(runId: string, nodeId: string): Promise<void> {
  const reply = resultReply({
    runId,
    nodeId,
    identity: nodeId,
    sentAt: Date.now(),
    stdout: { text: 'late\n', bytes: 5, truncated: false },
  });
  // Sent as the host's own local session: ingest drops a reply whose sender may not speak for
  // the node it names (the stack's own key speaks for none).
  const { region, endpoints, credentials } = t.stack.file;
  const host = createSqsClient({
    region,
    endpoints,
    credentials: { ...credentials, accessKeyId: localAgentKey([nodeId]) },
  });
  try {
    await host.send(
      new SendMessageCommand({ QueueUrl: t.stack.file.repliesQueueUrl, MessageBody: JSON.stringify(reply) }),
    );
  } finally {
    host.destroy();
  }
}

describe('replies after the run gave up', () => {
  it('records a result for a finished run as late, leaving the summary as it was', async () => {
    // Prepare: a run that ends with its only host not responding.
    await addSilentHost(t, 'ghost-1', { role: 'ghost' });
    const run = await droverCli(t.home, [
      'run',
      'echo hi',
      '-W',
      'role=ghost',
      '-t',
      '2',
      '--dt',
      '1',
      '--json',
    ]);
    const runId = (JSON.parse(run.stdout) as { runId: string }).runId;
    const summaryBefore = (await item(runId, META_SK))?.summary;

    // Act
    await replyLate(runId, 'ghost-1');

    // Assess
    const node = await eventually(
      async () => {
        const found = await runNodeOf(t.db, t.stack.file.runsTable, runId, 'ghost-1');
        return found?.status === 'late' ? found : undefined;
      },
      30_000,
      'the late result',
    );
    expect(run.code).toBe(3);
    expect(node).toMatchObject({
      status: 'late',
      lateAs: 'no_response',
      exitCode: 0,
      stdout: { text: 'late\n' },
    });
    expect((await item(runId, META_SK))?.summary).toEqual(summaryBefore);
  }, 60_000);

  it('records a result for a cancelled run as late', async () => {
    // Prepare: a run waiting for a host that never answers, cancelled.
    await addSilentHost(t, 'ghost-2', { role: 'ghost2' });
    const started = await droverCli(t.home, [
      'run',
      'echo hi',
      '-W',
      'role=ghost2',
      '--dt',
      '60',
      '--async',
      '--json',
    ]);
    const runId = (JSON.parse(started.stdout) as { runId: string }).runId;
    await eventually(async () =>
      (await runNodeOf(t.db, t.stack.file.runsTable, runId, 'ghost-2'))?.status === 'pending'
        ? true
        : undefined,
    );
    const cancelled = await droverCli(t.home, ['cancel', runId, '--json']);
    await eventually(
      async () => ((await item(runId, META_SK))?.status === 'cancelled' ? true : undefined),
      30_000,
    );

    // Act
    await replyLate(runId, 'ghost-2');

    // Assess
    const node = await eventually(
      async () => {
        const found = await runNodeOf(t.db, t.stack.file.runsTable, runId, 'ghost-2');
        return found?.status === 'late' ? found : undefined;
      },
      30_000,
      'the late result',
    );
    expect(cancelled.code).toBe(0);
    expect(node).toMatchObject({ status: 'late', lateAs: 'cancelled', stdout: { text: 'late\n' } });
  }, 60_000);
});
