/**
 * A failed step surfaces: the finish step records the run as `error` with the step's message,
 * and `drover show` prints it and exits 4, even after Step Functions has forgotten the execution.
 * (Which states hand their failure to the finish step is run-asl-paths.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { finishRun } from '#functions/run/finish-run.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { META_SK, nodeSk, type RunMetaItem } from '#shared/runs-table.ts';
import { newRunId } from '#shared/ids.ts';
import { runDocumentSchema } from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await stopCliProcesses();
  await t?.stop();
});

async function seedRunningRun(runId: string): Promise<void> {
  const meta: RunMetaItem = {
    runId,
    sk: META_SK,
    status: 'running',
    action: 'exec',
    command: { shell: 'uptime' },
    filter: { with: [], fact: ['role=web'], class: [], identity: [] },
    options: { timeoutSec: 60, discoveryTimeoutSec: 10, batchSleepSec: 0, staleAfterHeartbeats: 3 },
    caller: 'alice',
    createdAt: 1_000,
    startedAt: 1_000,
    expected: 2,
    batchCount: 2,
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
  await t.db.send(new PutCommand({ TableName: t.stack.file.runsTable, Item: meta }));
  for (const [nodeId, batch] of [
    ['web-1', 0],
    ['web-2', 1],
  ] as const) {
    await t.db.send(
      new PutCommand({
        TableName: t.stack.file.runsTable,
        Item: {
          runId,
          sk: nodeSk(nodeId),
          nodeId,
          identity: nodeId,
          batch,
          inbox: 'x',
          status: 'pending',
          expiresAt: 0,
        },
      }),
    );
  }
}

describe('a failed step', () => {
  it('is recorded on the run as error with its message, exit code 4, and shown by drover show', async () => {
    // Prepare: the dispatch of batch 0 failed; the state machine hands its error to the finish step.
    const runId = newRunId();
    await seedRunningRun(runId);
    const published: unknown[] = [];
    const error = {
      Error: 'KMSInvalidStateException',
      Cause: JSON.stringify({
        errorType: 'KMSInvalidStateException',
        errorMessage: 'key is pending deletion',
      }),
    };

    // Act
    const out = await finishRun(
      { runId, error },
      {
        runs: new RunStore(t.db, t.stack.file.runsTable),
        events: { publish: async (_type, detail) => void published.push(detail) },
        now: () => 2_000,
      },
    );
    const shown = await droverCli(t.home, ['show', runId]);
    const json = await droverCli(t.home, ['show', runId, '--json']);

    // Assess
    expect(out).toMatchObject({ runId, status: 'error', exitCode: 4 });
    const meta = (
      await t.db.send(new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk: META_SK } }))
    ).Item as RunMetaItem;
    expect(meta).toMatchObject({
      status: 'error',
      error: 'KMSInvalidStateException: key is pending deletion',
      summary: { exitCode: 4, skipped: 2 },
    });
    expect(published).toEqual([expect.objectContaining({ runId, status: 'error' })]);
    expect(shown.code).toBe(4);
    expect(shown.stderr).toContain('KMSInvalidStateException: key is pending deletion');
    expect(json.code).toBe(4);
    expect(runDocumentSchema.parse(JSON.parse(json.stdout))).toMatchObject({
      status: 'error',
      error: 'KMSInvalidStateException: key is pending deletion',
    });
  });
});
