/**
 * The ASL files are the single source for AWS and local mode: each must be valid ASL (the local
 * interpreter rejects what the deploy plugin may accept), name only control-plane functions, and
 * load through the serverless.yml loader with every placeholder turned into a function reference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_FUNCTIONS, placeholderFor } from '#local/functions.ts';
import { allStates, lambdaLogicalId } from '../helpers/cloudformation.ts';
import { REPO_ROOT } from '../helpers/sls-package.ts';

interface AslValidation {
  isValid: boolean;
  errorsText: (separator?: string) => string;
}

const require = createRequire(import.meta.url);
// asl-validator ships no type declarations.
const validateAsl = require('asl-validator') as (definition: unknown) => AslValidation;
const definitionsLoader = require('../../state-machines/definitions.cjs') as Record<string, unknown>;

const DIR = join(REPO_ROOT, 'state-machines');
const aslFiles = readdirSync(DIR).filter((file) => file.endsWith('.asl.json'));
const DUMMY_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:x';
const PLACEHOLDER = /\$\{[^}]*\}/g;

/** `${PlanFunctionArn}` → `PlanLambdaFunction`, for every control-plane function. */
const LOGICAL_IDS = new Map(
  Object.keys(CONTROL_PLANE_FUNCTIONS).map((name) => [placeholderFor(name), lambdaLogicalId(name)]),
);
const readAsl = (file: string) => readFileSync(join(DIR, file), 'utf8');

describe('state machine definitions', () => {
  it('finds the run state machine', () => {
    expect(aslFiles).toContain('run.asl.json');
  });

  describe.each(aslFiles)('%s', (file) => {
    it('names only control-plane functions in its placeholders', () => {
      const used = readAsl(file).match(PLACEHOLDER) ?? [];
      expect(used.length).toBeGreaterThan(0);
      for (const placeholder of used) expect([...LOGICAL_IDS.keys()]).toContain(placeholder);
    });

    it('is valid ASL once the placeholders are ARNs', () => {
      const definition: unknown = JSON.parse(readAsl(file).replace(PLACEHOLDER, DUMMY_ARN));
      const result = validateAsl(definition);
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    });

    it('loads for serverless.yml with each placeholder as Fn::GetAtt of the function', () => {
      const name = file.slice(0, -'.asl.json'.length);
      const loaded = definitionsLoader[name];
      expect(JSON.stringify(loaded)).not.toContain('${');

      const expected = allStates(JSON.parse(readAsl(file)))
        .map((state) => (state.Parameters as { FunctionName?: string } | undefined)?.FunctionName)
        .filter((fn): fn is string => fn !== undefined)
        .map((placeholder) => ({ 'Fn::GetAtt': [LOGICAL_IDS.get(placeholder), 'Arn'] }));
      const actual = allStates(loaded)
        .map((state) => (state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName)
        .filter((fn) => fn !== undefined);
      expect(actual).toEqual(expected);
    });
  });
});
