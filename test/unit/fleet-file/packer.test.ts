/**
 * Packer templates of a group, checked as data against Packer's documented structure: HCL2
 * (`packer { required_plugins }`, `source "TYPE" "NAME"`, `build { sources }`) and the legacy
 * JSON (`builders: [{ type, … }]`), with no credentials in either.
 */
import { describe, expect, it } from 'vitest';
import { fleetFromText, fleetGroup } from '#shared/fleet-file/index.ts';
import { packerHcl, packerJson, packerTemplate } from '#shared/fleet-file/packer.ts';
import { hclString } from '#shared/fleet-file/hcl.ts';
import { readHcl, type HclBlockData } from '../../helpers/hcl-reader.ts';
import { SEED_NODES_JSON } from './seed-example.ts';

const seed = fleetFromText(SEED_NODES_JSON, 'nodes.json');
const bee = fleetGroup(seed, '12_04-bee');

const only = (blocks: HclBlockData[], type: string): HclBlockData => {
  const found = blocks.filter((b) => b.type === type);
  expect(found, `one ${type} block`).toHaveLength(1);
  return found[0]!;
};

describe('fleet packer, HCL2', () => {
  it("writes the notes' builder for 12_04-bee as one source and a build naming it", () => {
    const blocks = readHcl(packerHcl(bee));

    expect(blocks.map((b) => b.type)).toEqual(['packer', 'locals', 'source', 'build']);
    expect(only(only(blocks, 'packer').blocks, 'required_plugins').attributes).toEqual({
      amazon: { source: 'github.com/hashicorp/amazon', version: '>= 1.3.0' },
    });
    const source = only(blocks, 'source');
    expect(source.labels).toEqual(['amazon-ebs', 'group']);
    expect(source.attributes).toEqual({
      ami_name: { expression: '"12_04-bee-${local.timestamp}"' },
      region: 'us-east-1',
      source_ami: 'ami-1ebb2077',
      instance_type: 'm1.large',
      ssh_username: 'ubuntu',
      tags: { group: '12_04-bee' },
    });
    expect(only(blocks, 'locals').attributes.timestamp).toEqual({
      expression: 'regex_replace(timestamp(), "[- TZ:]", "")',
    });
    // The build's sources reference the source block by its two labels, as Packer requires.
    expect(only(blocks, 'build').attributes).toEqual({
      name: '12_04-bee',
      sources: [`source.${source.labels[0]}.${source.labels[1]}`],
    });
  });

  it('writes extra builder settings: maps as blocks, lists of maps as repeated blocks, *tags as maps', () => {
    const f = fleetFromText(
      `g:
  source_ami: ami-1
  packer:
    ami_description: 'built with "${'${'}x}" in it'
    encrypt_boot: true
    run_tags: { team: ops }
    source_ami_filter: { owners: ['099720109477'], filters: { name: 'ubuntu/*' }, most_recent: true }
    launch_block_device_mappings:
      - { device_name: /dev/sda1, volume_size: 40 }
      - { device_name: /dev/sdb, volume_size: 100 }
`,
      'fleet.yaml',
    );
    const source = only(readHcl(packerHcl(fleetGroup(f, 'g'))), 'source');

    expect(source.attributes).toMatchObject({
      ami_description: 'built with "${x}" in it',
      encrypt_boot: true,
      run_tags: { team: 'ops' },
    });
    expect(source.blocks).toEqual([
      {
        type: 'source_ami_filter',
        labels: [],
        attributes: { owners: ['099720109477'], filters: { name: 'ubuntu/*' }, most_recent: true },
        blocks: [],
      },
      {
        type: 'launch_block_device_mappings',
        labels: [],
        attributes: { device_name: '/dev/sda1', volume_size: 40 },
        blocks: [],
      },
      {
        type: 'launch_block_device_mappings',
        labels: [],
        attributes: { device_name: '/dev/sdb', volume_size: 100 },
        blocks: [],
      },
    ]);
  });

  it('keeps template sequences and quotes of values literal', () => {
    expect(hclString('a "b" ${c} %{d} \\ e\nf')).toBe('"a \\"b\\" $${c} %%{d} \\\\ e\\nf"');
  });

  it('leaves out the amazon plugin for another builder type, and defaults to amazon-ebs', () => {
    const f = fleetFromText('g: { type: docker }\nh: {}\n', 'fleet.yaml');
    const g = readHcl(packerHcl(fleetGroup(f, 'g')));
    expect(g.map((b) => b.type)).toEqual(['locals', 'source', 'build']);
    expect(only(readHcl(packerHcl(fleetGroup(f, 'h'))), 'source').labels).toEqual(['amazon-ebs', 'group']);
  });
});

describe('fleet packer, legacy JSON', () => {
  it("is the notes' template without their access and secret keys", () => {
    const doc = packerJson(bee);

    expect(doc).toEqual({
      description: '12_04-bee-ec2 instance, responsible for worker processes',
      builders: [
        {
          type: 'amazon-ebs',
          region: 'us-east-1',
          source_ami: 'ami-1ebb2077',
          instance_type: 'm1.large',
          ssh_username: 'ubuntu',
          ami_name: '12_04-bee-{{timestamp}}',
          tags: { group: '12_04-bee' },
        },
      ],
    });
    // Packer's legacy template: only these top-level keys, every builder with a type.
    const allowed = [
      'description',
      'min_packer_version',
      'variables',
      'builders',
      'provisioners',
      'post-processors',
    ];
    expect(Object.keys(doc).every((k) => allowed.includes(k))).toBe(true);
    expect(JSON.stringify(doc)).not.toMatch(/access_key|secret_key|token/);
  });

  it('names the files --write creates', () => {
    expect(packerTemplate(bee, 'hcl').fileName).toBe('12_04-bee.pkr.hcl');
    expect(packerTemplate(bee, 'json').fileName).toBe('12_04-bee.pkr.json');
  });
});
