/**
 * A host the run gave up on never runs the command afterwards: an agent paused (SIGSTOP: a VM
 * suspended, a partition) past its acknowledgement window is reported `no_response`, and when it
 * resumes it finds the request expired and refuses it. Real agent process, real CLI, local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { NodeItem } from '#shared/runs-table.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { startAgent, stopAll, type AgentProcess } from '../helpers/processes.ts';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';

let t: TestStack;

const auditLines = (agent: AgentProcess): Record<string, unknown>[] => {
  const file = join(agent.stateDir, 'audit.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
};

beforeAll(async () => {
  t = await startTestStack();
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await t?.stop();
});

describe('a host paused past its acknowledgement window', () => {
  it('is reported as not responding and does not run the command when it resumes', async () => {
    // Prepare: one agent that has joined, then is frozen.
    const agent = startAgent(t.home, { identity: 'paused-1', facts: { role: 'paused' } });
    await eventually(
      async () =>
        (await t.db.send(new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId: 'paused-1' } })))
          .Item as NodeItem | undefined,
      30_000,
      'paused-1 to join',
    );
    const marker = join(t.home, 'paused.marker');
    const pid = agent.process.pid!;
    process.kill(pid, 'SIGSTOP');

    let run;
    try {
      // Act: the run gives up on the host; then the host comes back.
      run = await droverCli(t.home, [
        'run',
        `echo ran >> ${marker}`,
        '-W',
        'role=paused',
        '-t',
        '2',
        '--dt',
        '1',
        '--json',
      ]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const runId = (JSON.parse(run.stdout) as { runId: string }).runId;
    const decision = await eventually(
      async () => auditLines(agent).find((line) => line.runId === runId),
      30_000,
      'the resumed agent to decide on the request',
    );

    // Assess
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('no_response');
    expect(decision).toMatchObject({ decision: 'rejected', reason: expect.stringMatching(/^expired at /) });
    expect(existsSync(marker)).toBe(false);
  }, 90_000);
});
