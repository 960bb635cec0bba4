import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, substituteFunctionArns } from '#local/stack.ts';
import type { FunctionName } from '#local/functions.ts';

const arnOf = (name: FunctionName) => `arn:aws:lambda:us-east-1:000000000000:function:drover-local-${name}`;

describe('substituteFunctionArns', () => {
  it('replaces every occurrence of each function placeholder with that function\u2019s ARN', () => {
    // Prepare
    const asl = JSON.stringify({
      a: '${PlanFunctionArn}',
      b: '${DispatchFunctionArn}',
      c: '${AwaitRepliesFunctionArn}',
      d: '${AwaitRepliesFunctionArn}',
      e: '${CloseBatchFunctionArn}',
      f: '${FinishFunctionArn}',
      g: '${IngestFunctionArn}',
    });

    // Act
    const substituted = JSON.parse(substituteFunctionArns(asl, arnOf)) as Record<string, string>;

    // Assess
    expect(substituted).toEqual({
      a: arnOf('plan'),
      b: arnOf('dispatch'),
      c: arnOf('awaitReplies'),
      d: arnOf('awaitReplies'),
      e: arnOf('closeBatch'),
      f: arnOf('finish'),
      g: arnOf('ingest'),
    });
  });

  it('leaves text without placeholders as it is', () => {
    const asl = '{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}';

    expect(substituteFunctionArns(asl, arnOf)).toBe(asl);
  });

  it('leaves no placeholder in the run state machine', () => {
    const asl = readFileSync(join(PROJECT_ROOT, 'state-machines', 'run.asl.json'), 'utf8');

    const substituted = substituteFunctionArns(asl, arnOf);

    expect(substituted).not.toMatch(/\$\{/);
    expect(substituted).toContain(arnOf('plan'));
    expect(substituted).toContain(arnOf('finish'));
    expect(() => JSON.parse(substituted) as unknown).not.toThrow();
  });

  it('throws on a placeholder naming an unknown function, naming it', () => {
    const asl = JSON.stringify({ a: '${PlanFunctionArn}', b: '${RollbackFunctionArn}' });

    expect(() => substituteFunctionArns(asl, arnOf)).toThrow(
      'state machine refers to an unknown function: ${RollbackFunctionArn}',
    );
  });

  it('throws on a placeholder in the wrong case', () => {
    expect(() => substituteFunctionArns('"${planFunctionArn}"', arnOf)).toThrow(/\$\{planFunctionArn\}/);
  });
});
