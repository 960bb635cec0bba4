/**
 * The EventBridge rules serverless.yml declares and the ones the local stack applies
 * (local/event-rules.ts) match the same events and invoke the same functions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { eventRules } from '#local/event-rules.ts';
import { REPO_ROOT } from '../helpers/sls-package.ts';

interface RuleResource {
  Type: string;
  Properties: {
    EventBusName?: unknown;
    EventPattern: unknown;
    Targets: { Arn: { 'Fn::GetAtt'?: [string, string]; Ref?: string } }[];
  };
}

const resources = (
  parse(readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8')) as {
    resources: { Resources: Record<string, RuleResource> };
  }
).resources.Resources;
const lambdaId = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;
/** serverless.yml writes the stage as `${sls:stage}`. */
const LOCAL_EVENT_RULES = eventRules('${sls:stage}');
const targetId = (target: (typeof LOCAL_EVENT_RULES)[number]['target']) =>
  typeof target === 'string'
    ? lambdaId(target)
    : `${target.stateMachine.charAt(0).toUpperCase()}${target.stateMachine.slice(1)}StateMachine`;

describe('event rules', () => {
  it('are the same set in serverless.yml and in the local stack', () => {
    const declared = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Events::Rule')
      .map(([id]) => id)
      .sort();
    expect(declared).toEqual(LOCAL_EVENT_RULES.map((r) => r.id).sort());
  });

  it.each(LOCAL_EVENT_RULES.map((r) => [r.id, r] as const))(
    '%s: same pattern, bus and target',
    (id, rule) => {
      const declared = resources[id]!;
      expect(declared.Properties.EventPattern).toEqual(rule.pattern);
      expect(declared.Properties.EventBusName).toEqual(
        rule.bus === 'stage' ? { Ref: 'EventBus' } : undefined,
      );
      const targets = declared.Properties.Targets.map((t) => t.Arn['Fn::GetAtt']?.[0] ?? t.Arn.Ref);
      expect(targets).toEqual([targetId(rule.target)]);
      if (typeof rule.target !== 'string') return;
      const permission = Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Permission' &&
          JSON.stringify(r.Properties).includes(`"${id}"`) &&
          JSON.stringify(r.Properties).includes(targetId(rule.target)),
      );
      expect(permission, `a Lambda permission lets ${id} invoke ${rule.target}`).toBeDefined();
    },
  );
});
