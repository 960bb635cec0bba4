/**
 * Who started a run is proven, not claimed: the CLI signs an STS GetCallerIdentity request for
 * the run, Plan sends it to STS (the local stack answers it) and records the ARN; a proof for
 * another run, or one addressed anywhere but STS, makes the run invalid.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { newRunId } from '#shared/ids.ts';
import { META_SK, type RunMetaItem } from '#shared/runs-table.ts';
import { CallerProofError, signCallerProof, verifyCallerProof } from '#shared/caller-proof.ts';
import type { CallerProof } from '#shared/messages.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRun } from '#cli/run-session.ts';
import type { ConnectedStack } from '#cli/stack.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { eventually } from '../helpers/wait.ts';
import { startAgent, stopAll, type AgentProcess } from '../helpers/processes.ts';
import { runNodeOf } from '../helpers/run-seed.ts';

let t: TestStack;
let agent: AgentProcess;
beforeAll(async () => {
  t = await startTestStack();
  agent = startAgent(t.home, { identity: 'proof-web-1', facts: { role: 'web' } });
  await eventually(
    async () =>
      (
        await t.db.send(
          new GetCommand({ TableName: t.stack.file.nodesTable, Key: { nodeId: 'proof-web-1' } }),
        )
      ).Item,
    30_000,
  );
}, 90_000);
afterAll(async () => {
  await stopAll();
  await t?.stop();
});

const sign = (runId: string) =>
  signCallerProof({
    runId,
    region: t.stack.file.region,
    credentials: t.stack.file.credentials,
    endpoint: t.stack.file.endpoints.sfn,
  });

async function run(runId: string, proof: CallerProof) {
  const { executionArn } = await t.sfn.send(
    new StartExecutionCommand({
      stateMachineArn: t.stack.file.stateMachines.run,
      name: runId,
      input: JSON.stringify({
        runId,
        caller: 'alice@laptop',
        command: { shell: 'echo "$DROVER_CALLER_ARN"' },
        callerProof: proof,
      }),
    }),
  );
  const execution = await eventually(async () => {
    const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return d.status === 'RUNNING' ? undefined : d;
  }, 40_000);
  const meta = (
    await t.db.send(new GetCommand({ TableName: t.stack.file.runsTable, Key: { runId, sk: META_SK } }))
  ).Item as RunMetaItem | undefined;
  return { execution, meta };
}

describe('the caller of a run', () => {
  it('is recorded as the ARN STS vouches for, beside the name the client gave', async () => {
    const runId = newRunId();
    const { meta } = await run(runId, await sign(runId));
    expect(meta).toMatchObject({ caller: 'alice@laptop', callerArn: 'arn:aws:iam::000000000000:user/local' });
    expect(JSON.stringify(meta)).not.toContain('authorization');
    // The command sees it, and the host's audit line names both.
    const node = await runNodeOf(t.db, t.stack.file.runsTable, runId, 'proof-web-1');
    expect(node?.stdout?.text).toBe('arn:aws:iam::000000000000:user/local\n');
    const audit = readFileSync(join(agent.stateDir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit.find((a) => a.runId === runId && a.decision === 'accepted')).toMatchObject({
      caller: 'alice@laptop',
      callerArn: 'arn:aws:iam::000000000000:user/local',
    });
  });

  it('makes the run invalid when the proof was signed for another run', async () => {
    const runId = newRunId();
    const { execution, meta } = await run(runId, await sign(newRunId()));
    expect(execution.status).not.toBe('SUCCEEDED');
    expect(meta?.callerArn).toBeUndefined();
  });

  it('is never sent anywhere but STS, and a tampered proof is refused', async () => {
    const runId = newRunId();
    const proof = await sign(runId);
    let fetched = false;
    const fetchSpy = (async () => {
      fetched = true;
      return new Response('');
    }) as unknown as typeof fetch;
    await expect(
      verifyCallerProof(
        { ...proof, url: 'http://127.0.0.1:9/' },
        { runId, stsEndpoint: t.stack.file.endpoints.sfn, fetch: fetchSpy },
      ),
    ).rejects.toThrow(CallerProofError);
    await expect(
      verifyCallerProof(
        { ...proof, body: 'Action=AssumeRole&Version=2011-06-15' },
        { runId, stsEndpoint: t.stack.file.endpoints.sfn, fetch: fetchSpy },
      ),
    ).rejects.toThrow('not a GetCallerIdentity request');
    const { authorization, ...unsigned } = proof.headers;
    expect(authorization).toBeDefined();
    await expect(
      verifyCallerProof(
        { ...proof, headers: unsigned },
        { runId, stsEndpoint: t.stack.file.endpoints.sfn, fetch: fetchSpy },
      ),
    ).rejects.toThrow('not signed for this run');
    expect(fetched).toBe(false);
  });

  it('is refused by STS when its signature does not verify', async () => {
    const runId = newRunId();
    const proof = await sign(runId);
    const forged = proof.headers.authorization!.replace(
      /Signature=([0-9a-f])/,
      (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`,
    );

    await expect(
      verifyCallerProof(
        { ...proof, headers: { ...proof.headers, authorization: forged } },
        { runId, stsEndpoint: t.stack.file.endpoints.sfn },
      ),
    ).rejects.toThrow('STS refused the caller proof: SignatureDoesNotMatch');
    await expect(
      verifyCallerProof(proof, { runId, stsEndpoint: t.stack.file.endpoints.sfn }),
    ).resolves.toMatchObject({
      arn: 'arn:aws:iam::000000000000:user/local',
    });
  });

  it("is proven by the CLI's own start of a run", async () => {
    const runId = newRunId();
    const f = t.stack.file;
    const conn: ConnectedStack = {
      stage: f.stage,
      region: f.region,
      local: true,
      runStateMachineArn: f.stateMachines.run!,
      cancelStateMachineArn: f.stateMachines.cancel,
      runsTable: f.runsTable,
      nodesTable: f.nodesTable,
      eventsTable: f.eventsTable,
      lifecycleTable: f.lifecycleTable,
      autoScalingEndpoint: f.endpoints.autoscaling,
      db: t.db,
      sfn: t.sfn,
      fromCache: false,
      stsEndpoint: f.endpoints.sfn,
      close: () => {},
    };

    const executionArn = await startRun(conn, {
      runId,
      action: 'ping',
      filter: { with: [], fact: [], class: [], identity: [] },
      options: { timeoutSec: 10, discoveryTimeoutSec: 2, batchSleepSec: 0, staleAfterHeartbeats: 3 },
      caller: 'bob@cli',
    });
    await eventually(async () => {
      const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
      return d.status === 'RUNNING' ? undefined : d;
    }, 40_000);

    const meta = (await t.db.send(new GetCommand({ TableName: f.runsTable, Key: { runId, sk: META_SK } })))
      .Item as RunMetaItem | undefined;
    expect(meta).toMatchObject({ caller: 'bob@cli', callerArn: 'arn:aws:iam::000000000000:user/local' });
  });
});
