/**
 * The local stack serves its own handlers' calls to its emulators in memory
 * (shared/in-process-endpoints.ts), and stops doing so when it stops.
 */
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { inProcessAgent } from '#shared/in-process-endpoints.ts';
import { startTestStack } from '../helpers/local-stack.ts';

describe('local stack: in-process endpoints', () => {
  it('serves SQS, DynamoDB and the API server in memory while it runs, and no longer once stopped', async () => {
    const t = await startTestStack();
    const { endpoints } = t.stack.file;
    let stopped = false;
    try {
      const served = [endpoints.sqs, endpoints.dynamodb, endpoints.sfn].map((e) => inProcessAgent(e, 1));
      expect(served.every((agent) => agent !== undefined)).toBe(true);
      for (const agent of served) agent?.destroy();

      // The test's clients are built by shared/aws.ts for those endpoints: their calls go in memory.
      const queues = await t.sqs.send(new ListQueuesCommand({}));
      expect(queues.QueueUrls?.length).toBeGreaterThan(0);
      const tables = await t.db.send(new ListTablesCommand({}));
      expect(tables.TableNames).toContain(t.stack.file.runsTable);
      const machines = await t.sfn.send(new ListStateMachinesCommand({}));
      expect(machines.stateMachines?.length).toBeGreaterThan(0);

      await t.stop();
      stopped = true;
      expect([endpoints.sqs, endpoints.dynamodb, endpoints.sfn].map((e) => inProcessAgent(e, 1))).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
    } finally {
      if (!stopped) await t.stop();
    }
  });
});
