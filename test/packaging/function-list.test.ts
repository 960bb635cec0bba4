/**
 * serverless.yml and the local runtime deploy the same functions: same names, same handler
 * modules, so what runs on one machine is what runs in AWS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_FUNCTIONS } from '#local/functions.ts';
import { REPO_ROOT } from '../helpers/sls-package.ts';

interface ServerlessConfig {
  functions: Record<string, { handler: string; role?: string }>;
  resources: { Resources: Record<string, { Type: string }> };
}

const config = parse(readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8')) as ServerlessConfig;

describe('serverless.yml functions', () => {
  it('are exactly the control-plane functions of the local runtime', () => {
    expect(Object.keys(config.functions).sort()).toEqual(Object.keys(CONTROL_PLANE_FUNCTIONS).sort());
  });

  it('use the same handler modules as the local runtime', () => {
    const handlers = Object.fromEntries(
      Object.entries(config.functions).map(([name, fn]) => [name, fn.handler]),
    );
    expect(handlers).toEqual(CONTROL_PLANE_FUNCTIONS);
  });

  it('each run under a role of their own, declared in the resources', () => {
    const roles = Object.values(config.functions).map((fn) => fn.role);
    expect(new Set(roles).size).toBe(roles.length);
    for (const role of roles) {
      expect(role).toBeDefined();
      expect(config.resources.Resources[role!]?.Type).toBe('AWS::IAM::Role');
    }
  });
});
