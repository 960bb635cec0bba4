/**
 * `drover fleet validate|show|role|packer|schema` as the operator runs them: which file is read
 * (argument, --file, DROVER_FLEET, ./fleet.yaml), what is printed, what --write leaves on disk,
 * and how a bad file is reported. No stack needed: these commands read only the file.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetJsonSchema } from '#shared/fleet-file/index.ts';
import { droverCli, stopCliProcesses, type CliOptions } from '../helpers/cli.ts';
import { ROOT } from '../helpers/processes.ts';
import { readHcl } from '../helpers/hcl-reader.ts';
import {
  fleetPackerDocumentSchema,
  fleetShowDocumentSchema,
  fleetValidateDocumentSchema,
  fleetWrittenDocumentSchema,
} from '#cli/fleet-file/output-schemas.ts';

const EXAMPLE = join(ROOT, 'examples', 'fleet.yaml');
let dir: string;

const cli = (args: string[], options: CliOptions = {}) =>
  droverCli(dir, args, { ...options, env: { DROVER_FLEET: undefined, ...options.env } });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-fleet-file-'));
});

afterAll(async () => {
  await stopCliProcesses();
  rmSync(dir, { recursive: true, force: true });
});

describe('drover fleet validate', () => {
  it('reads the argument, then --file, then DROVER_FLEET', async () => {
    const [arg, flag, env] = await Promise.all([
      cli(['fleet', 'validate', EXAMPLE]),
      cli(['fleet', 'validate', '--file', EXAMPLE, '--json']),
      cli(['fleet', 'validate'], { env: { DROVER_FLEET: EXAMPLE } }),
    ]);

    expect(arg).toMatchObject({
      code: 0,
      stdout: `${EXAMPLE}: valid, 5 groups: 12_04-bee, 12_04-www, nucleus, body, body-stateful\n`,
    });
    expect(fleetValidateDocumentSchema.parse(JSON.parse(flag.stdout))).toEqual({
      file: EXAMPLE,
      valid: true,
      groups: ['12_04-bee', '12_04-www', 'nucleus', 'body', 'body-stateful'],
    });
    expect(env.stdout).toBe(arg.stdout);
  });

  it('lists every problem with its line and column and exits 4; --json gives them as data', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'www:\n  instance_typ: m5.large\n  run_list: recipe[x]\n');

    const [text, json] = await Promise.all([
      cli(['fleet', 'validate', bad]),
      cli(['fleet', 'validate', bad, '--json']),
    ]);

    expect(text.code).toBe(4);
    expect(text.stdout).toBe('');
    expect(text.stderr).toBe(
      `drover: ${bad}: 2 problems\n` +
        `  ${bad}:2:3: www.instance_typ: unknown key; did you mean "instance_type"?\n` +
        `  ${bad}:3:13: www.run_list: Invalid input: expected array, received string\n`,
    );
    expect(json.code).toBe(4);
    expect(fleetValidateDocumentSchema.parse(JSON.parse(json.stdout))).toEqual({
      file: bad,
      valid: false,
      problems: [
        {
          path: 'www.instance_typ',
          message: 'unknown key; did you mean "instance_type"?',
          line: 2,
          column: 3,
        },
        {
          path: 'www.run_list',
          message: 'Invalid input: expected array, received string',
          line: 3,
          column: 13,
        },
      ],
    });
  });

  it('says where it looked when there is no fleet file', async () => {
    const r = await cli(['fleet', 'validate']);

    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /^drover: fleet\.yaml: no such file \(looked in \S+fleet\.yaml; name the fleet file with --file or DROVER_FLEET\)\n$/,
    );
  });
});

describe('drover fleet show', () => {
  it('prints the merged group with the origin of every value', async () => {
    const r = await cli(['fleet', 'show', 'body-stateful', '-f', EXAMPLE]);

    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('# group body-stateful: __base__ → body → body-stateful');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}- external +# __base__$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}- body +# body$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}node_min: 1 +# body$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}node_max: 100 +# body-stateful$/));
    expect(lines).toContainEqual(expect.stringMatching(/^bootstrap: echo .* +# body$/));
  });

  it('prints reactions last, each with its origin', async () => {
    const r = await cli(['fleet', 'show', 'body', '-f', join(ROOT, 'examples', 'fleet-local.yaml')]);

    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const at = lines.indexOf('reactions:');
    expect(lines.slice(at, at + 3)).toEqual([
      'reactions:',
      expect.stringMatching(
        /^ {2}- \{ on: joined, group: nucleus, run: .*re-reads the ensemble.* \} +# body$/,
      ),
      expect.stringMatching(/^ {2}- \{ on: lost, group: nucleus, run: .* \} +# body$/),
    ]);
    expect(lines[at - 1]).toMatch(/^decommission: /);
  });

  it('gives the group as JSON, and names the groups there are for an unknown one', async () => {
    const [json, unknown] = await Promise.all([
      cli(['fleet', 'show', '12_04-bee', '-f', EXAMPLE, '--json']),
      cli(['fleet', 'show', 'bees', '-f', EXAMPLE]),
    ]);

    expect(fleetShowDocumentSchema.parse(JSON.parse(json.stdout))).toMatchObject({
      name: '12_04-bee',
      lineage: ['__base__', '12_04-bee'],
      settings: { security_groups: ['external', 'internal', 'bee'] },
      origins: { bootstrap: { kind: 'value', from: 'default' } },
      facts: { group: '12_04-bee' },
    });
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toBe(
      `drover: ${EXAMPLE}: no group "bees" in the fleet file (groups: 12_04-bee, 12_04-www, nucleus, body, body-stateful)\n`,
    );
  });
});

describe('drover fleet role and packer', () => {
  it('prints a role, and --write writes role-<group>.json for every group', async () => {
    const out = join(dir, 'roles');
    const [one, all] = await Promise.all([
      cli(['fleet', 'role', '12_04-www', '-f', EXAMPLE]),
      cli(['fleet', 'role', '-f', EXAMPLE, '--write', out]),
    ]);

    expect(JSON.parse(one.stdout)).toMatchObject({ name: 'role-12_04-www', chef_type: 'role' });
    expect(all.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual([
      'role-12_04-bee.json',
      'role-12_04-www.json',
      'role-body-stateful.json',
      'role-body.json',
      'role-nucleus.json',
    ]);
    expect(JSON.parse(readFileSync(join(out, 'role-12_04-www.json'), 'utf8'))).toEqual(
      JSON.parse(one.stdout),
    );
    expect(all.stderr).toContain(`wrote ${join(out, 'role-nucleus.json')}\n`);
  });

  it('prints a Packer template in HCL2 or JSON, and --write --json lists the files written', async () => {
    const out = join(dir, 'packer');
    const [hcl, legacy, written, noGroup, asJson] = await Promise.all([
      cli(['fleet', 'packer', 'nucleus', '-f', EXAMPLE]),
      cli(['fleet', 'packer', 'nucleus', '-f', EXAMPLE, '--format', 'json']),
      cli(['fleet', 'packer', 'body', '-f', EXAMPLE, '--write', out, '--json']),
      cli(['fleet', 'packer', '-f', EXAMPLE]),
      cli(['fleet', 'packer', 'nucleus', '-f', EXAMPLE, '--json']),
    ]);

    const source = readHcl(hcl.stdout).find((b) => b.type === 'source');
    expect(source?.attributes.tags).toEqual({ group: 'nucleus' });
    expect(JSON.parse(legacy.stdout).builders[0]).toMatchObject({
      type: 'amazon-ebs',
      ami_name: 'nucleus-{{timestamp}}',
    });
    expect(fleetWrittenDocumentSchema.parse(JSON.parse(written.stdout))).toEqual({
      written: [{ group: 'body', path: join(out, 'body.pkr.hcl') }],
    });
    expect(readHcl(readFileSync(join(out, 'body.pkr.hcl'), 'utf8')).map((b) => b.type)).toEqual([
      'packer',
      'locals',
      'source',
      'build',
    ]);
    expect(fleetPackerDocumentSchema.parse(JSON.parse(asJson.stdout))).toEqual({
      group: 'nucleus',
      format: 'hcl',
      fileName: 'nucleus.pkr.hcl',
      template: hcl.stdout,
    });
    expect(noGroup.code).toBe(4);
    expect(noGroup.stderr).toBe(
      'drover: name a group (drover fleet packer <group>), or give --write <dir> to write every group\n',
    );
  });
});

describe('drover fleet --write', () => {
  it('says which path it could not write, and writes nothing else over it', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'keep me');

    const r = await cli(['fleet', 'role', '-f', EXAMPLE, '--write', blocker]);

    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      `drover: --write: cannot write ${blocker} (a file is in the way of the directory)\n`,
    );
    expect(readFileSync(blocker, 'utf8')).toBe('keep me');
  });
});

describe('drover fleet schema', () => {
  it('prints the JSON Schema docs/fleet.schema.json holds', async () => {
    const r = await cli(['fleet', 'schema']);

    expect(JSON.parse(r.stdout)).toEqual(fleetJsonSchema());
  });
});
