/**
 * The local replies event source's width (local/ingest-pollers.ts): 4 receive loops in standard
 * mode (below the 5 batches Lambda starts with), as wide as the stage's ingestMinPollers when it
 * is provisioned, and a value `sls package` would refuse refused here too.
 */
import { describe, expect, it } from 'vitest';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { localIngestPollers, STANDARD_LOCAL_POLLERS } from '#local/ingest-pollers.ts';
import { SqsEventSource } from '#local/event-source.ts';

describe('localIngestPollers', () => {
  it('runs 4 receive loops in standard mode', () => {
    expect(localIngestPollers(undefined)).toBe(4);
    expect(localIngestPollers(0)).toBe(4);
  });

  it('starts as wide as the provisioned minimum, never narrower than standard mode', () => {
    expect(localIngestPollers(20)).toBe(20);
    expect(localIngestPollers(200)).toBe(200);
    expect(localIngestPollers(2)).toBe(STANDARD_LOCAL_POLLERS);
  });

  it.each([1, 201, 2.5])('refuses %s as sls package refuses the param', (minimum) => {
    expect(() => localIngestPollers(minimum)).toThrow(/ingestMinPollers/);
  });
});

describe('SqsEventSource width', () => {
  it('keeps that many long polls open at once', async () => {
    let open = 0;
    let peak = 0;
    // Each receive waits, as a 20 s long poll on an empty queue does, until the source stops.
    const sqs = {
      send: (_command: unknown, options: { abortSignal: AbortSignal }) =>
        new Promise((_, reject) => {
          open += 1;
          peak = Math.max(peak, open);
          options.abortSignal.addEventListener('abort', () => {
            open -= 1;
            reject(new Error('aborted'));
          });
        }),
    } as unknown as SQSClient;
    const source = new SqsEventSource({
      sqs,
      queueUrl: 'http://127.0.0.1:1/000000000000/drover-local-replies',
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:drover-local-replies',
      region: 'us-east-1',
      invoke: async () => ({ batchItemFailures: [] }),
      pollers: localIngestPollers(20),
    });

    source.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(peak).toBe(20);
    await source.stop();
    expect(open).toBe(0);
  });
});
