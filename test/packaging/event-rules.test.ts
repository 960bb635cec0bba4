/**
 * The EventBridge rules serverless.yml declares and the ones the local stack applies
 * (local/event-rules.ts) match the same events and invoke the same functions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { LOCAL_EVENT_RULES } from '#local/event-rules.ts';
import { REPO_ROOT } from '../helpers/sls-package.ts';

interface RuleResource {
  Type: string;
  Properties: {
    EventBusName?: unknown;
    EventPattern: unknown;
    Targets: { Arn: { 'Fn::GetAtt': [string, string] } }[];
  };
}

const resources = (
  parse(readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8')) as {
    resources: { Resources: Record<string, RuleResource> };
  }
).resources.Resources;
const lambdaId = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;

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
      expect(declared.Properties.Targets.map((t) => t.Arn['Fn::GetAtt'][0])).toEqual([lambdaId(rule.target)]);
      const permission = Object.values(resources).find(
        (r) =>
          r.Type === 'AWS::Lambda::Permission' &&
          JSON.stringify(r.Properties).includes(`"${id}"`) &&
          JSON.stringify(r.Properties).includes(lambdaId(rule.target)),
      );
      expect(permission, `a Lambda permission lets ${id} invoke ${rule.target}`).toBeDefined();
    },
  );
});
