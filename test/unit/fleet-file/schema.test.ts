/**
 * The fleet file's JSON Schema: the committed copy editors point at is the one the code
 * generates, and it accepts the example files and refuses what the loader refuses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { fleetJsonSchema } from '#shared/fleet-file/index.ts';
import { ROOT } from '../../helpers/processes.ts';
import { SEED_NODES_JSON } from './seed-example.ts';

const committed = JSON.parse(readFileSync(join(ROOT, 'docs', 'fleet.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(committed);

describe('the fleet file JSON Schema', () => {
  it('is committed as docs/fleet.schema.json exactly as generated (regenerate: drover fleet schema)', () => {
    expect(committed).toEqual(fleetJsonSchema());
  });

  it('accepts examples/fleet.yaml and the notes example', () => {
    for (const doc of [readFileSync(join(ROOT, 'examples', 'fleet.yaml'), 'utf8'), SEED_NODES_JSON]) {
      expect(validate(parse(doc)), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('refuses an unknown key, a wrong type and a bad autoscale, as the loader does', () => {
    for (const bad of [
      { www: { instance_typ: 'm5.large' } },
      { www: { run_list: 'recipe[x]' } },
      { www: { autoscale: true } },
      { __base__: { inherits: 'www' }, www: {} },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
