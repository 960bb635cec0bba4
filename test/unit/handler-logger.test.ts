import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Context } from 'aws-lambda';
import { handlerLogger } from '#functions/run/wiring.ts';

const context = (functionName: string): Context => ({
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
  memoryLimitInMB: '256',
  awsRequestId: `${functionName}-request`,
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 1_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('handlerLogger', () => {
  it('keeps each handler’s invocation context apart when handlers share a process', () => {
    // Prepare: two handlers' loggers, as the local runtime hosts them, each given its invocation.
    const dispatch = handlerLogger();
    const finish = handlerLogger();
    dispatch.addContext(context('drover-test-dispatch'));
    finish.addContext(context('drover-test-finish'));
    const lines: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    }

    // Act
    dispatch.error('from dispatch');
    finish.error('from finish');

    // Assess
    const logged = lines
      .flatMap((l) => l.split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { message: string; function_name: string });
    expect(logged.map((l) => [l.message, l.function_name])).toEqual([
      ['from dispatch', 'drover-test-dispatch'],
      ['from finish', 'drover-test-finish'],
    ]);
  });
});
