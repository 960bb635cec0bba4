/**
 * The local Lambda runtime hands a function its event as Lambda does: carried as JSON and parsed
 * for the function, so the function gets a JSON copy, never the caller's object.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaRuntime } from '#local/lambda-runtime.ts';

describe('local Lambda runtime: the event a function receives', () => {
  let root = '';
  let lambdas: LambdaRuntime;

  beforeAll(() => {
    // A handler at a deploy path that changes its event, then describes what it received.
    root = mkdtempSync(join(tmpdir(), 'drover-lambda-event-'));
    mkdirSync(join(root, 'functions'));
    writeFileSync(
      join(root, 'functions', 'plan.ts'),
      [
        'export const handler = async (event: Record<string, unknown>) => {',
        '  const seen = { keys: Object.keys(event).sort(), at: typeof event.at, at2: event.at };',
        '  (event.nested as { n: number }).n = 99;',
        "  event.added = 'by the function';",
        '  return seen;',
        '};',
        '',
      ].join('\n'),
    );
    lambdas = new LambdaRuntime(root, 'arn:aws:lambda:us-east-1:000000000000:function:drover-event-');
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('is a copy: what the function changes does not reach the caller', async () => {
    const event = { nested: { n: 1 } };

    await lambdas.invoke('plan', event);

    expect(event).toEqual({ nested: { n: 1 } });
  });

  it('is what JSON carries: undefined members dropped, a date as its ISO string', async () => {
    const at = new Date('2026-12-02T08:00:00.000Z');
    const seen = await lambdas.invoke('plan', { at, gone: undefined, nested: { n: 1 } });

    expect(seen).toEqual({ keys: ['at', 'nested'], at: 'string', at2: '2026-12-02T08:00:00.000Z' });
  });
});
