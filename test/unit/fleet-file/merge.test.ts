/**
 * The merge rules of the node-group notes, on their own example and on the edge cases: lists
 * appended base first, maps merged one level deep, other values (null included) overriding.
 */
import { describe, expect, it } from 'vitest';
import { chefRole, fleetFromText, fleetGroup } from '#shared/fleet-file/index.ts';
import { mergeLayers } from '#shared/fleet-file/merge.ts';
import { SEED_NODES_JSON } from './seed-example.ts';

const fleet = (yaml: string) => fleetFromText(yaml, 'fleet.yaml');

describe('the notes example', () => {
  const seed = fleetFromText(SEED_NODES_JSON, 'nodes.json');

  it('renders the role of 12_04-bee as the notes do: base lists first, post_run_list last, attributes merged', () => {
    const role = chefRole(fleetGroup(seed, '12_04-bee'));

    // The notes' rendering differs from their input in two entries (role[seatgeek::server] for
    // recipe[seatgeek::base-server], recipe[sudo::default] for recipe[sudo]): the merge keeps the
    // input's entries, as the rules say; everything else is the notes' output, key for key.
    expect(role).toEqual({
      name: 'role-12_04-bee',
      chef_type: 'role',
      json_class: 'Chef::Role',
      description: '12_04-bee-ec2 instance, responsible for worker processes',
      override_attributes: {},
      default_attributes: { environment: 'production', key: 'value', other_key: 'value' },
      run_list: [
        'recipe[seatgeek::base-server]',
        'recipe[seatgeek::collect-services]',
        'recipe[seatgeek::decommission-services]',
        'recipe[seatgeek-service::api-workers]',
        'recipe[seatgeek-service::cronq-workers]',
        'recipe[seatgeek-service::djjob]',
        'recipe[seatgeek::notify-services]',
        'recipe[sudo]',
      ],
    });
    expect(Object.keys(role)).toEqual([
      'name',
      'chef_type',
      'json_class',
      'description',
      'override_attributes',
      'default_attributes',
      'run_list',
    ]);
  });

  it('appends security groups base first and lets the group override scalars and autoscale', () => {
    const bee = fleetGroup(seed, '12_04-bee');
    const www = fleetGroup(seed, '12_04-www');

    expect(bee.settings.security_groups).toEqual(['external', 'internal', 'bee']);
    expect(www.settings.security_groups).toEqual(['external', 'internal', 'www']);
    expect(www.settings.instance_type).toBe('m3.xlarge');
    expect(www.settings.region).toBe('us-east-1');
    // The base's `autoscale: false` is not a map, so the group's map replaces it whole.
    expect(bee.settings.autoscale).toEqual({ timeout: 120, node_min: 2, node_max: 2 });
    expect(www.settings.autoscale).toBe(false);
    expect(www.runList.at(-1)).toBe('recipe[sudo]');
    expect(www.runList.at(3)).toBe('recipe[seatgeek::customer-web]');
  });

  it('records where each value came from', () => {
    const bee = fleetGroup(seed, '12_04-bee');

    expect(bee.origins.security_groups).toEqual({
      kind: 'list',
      items: ['__base__', '__base__', '12_04-bee'],
    });
    expect(bee.origins.default_attributes).toEqual({
      kind: 'map',
      keys: { environment: '__base__', key: '__base__', other_key: '12_04-bee' },
    });
    expect(bee.origins.region).toEqual({ kind: 'value', from: '__base__' });
    expect(bee.origins.instance_type).toEqual({ kind: 'value', from: '12_04-bee' });
    expect(bee.origins.bootstrap).toEqual({ kind: 'value', from: 'default' });
    expect(bee.bootstrap).toBe(
      "DROVER_LIFECYCLE=bootstrap chef-client --local-mode --runlist 'role[role-12_04-bee]'",
    );
    expect(bee.facts).toEqual({ group: '12_04-bee' });
  });
});

describe('edge cases of the merge rules', () => {
  it('appends empty lists as nothing, and keeps the base list when the group has an empty one', () => {
    const f = fleet(`
__base__: { run_list: ['recipe[a]'], security_groups: [] }
g: { run_list: [], security_groups: [sg-1] }
`);
    expect(fleetGroup(f, 'g').settings.run_list).toEqual(['recipe[a]']);
    expect(fleetGroup(f, 'g').settings.security_groups).toEqual(['sg-1']);
  });

  it('replaces a nested map at level 2 instead of merging it', () => {
    const f = fleet(`
__base__:
  default_attributes:
    nginx: { port: 80, workers: 4 }
    env: prod
g:
  default_attributes:
    nginx: { port: 8080 }
`);
    expect(fleetGroup(f, 'g').settings.default_attributes).toEqual({ nginx: { port: 8080 }, env: 'prod' });
  });

  it('removes an inherited value with null, and keeps a null attribute as a value', () => {
    const f = fleet(`
__base__: { source_ami: ami-1, security_groups: [a], default_attributes: { key: value, other: 1 } }
g: { source_ami: null, security_groups: null, default_attributes: { key: null } }
h: {}
`);
    const g = fleetGroup(f, 'g');
    expect(g.settings.source_ami).toBeUndefined();
    expect(g.settings.security_groups).toBeUndefined();
    expect(g.settings.default_attributes).toEqual({ key: null, other: 1 });
    expect(fleetGroup(f, 'h').settings.source_ami).toBe('ami-1');
  });

  it('replaces a list with a map or a scalar only through null: types are fixed per key', () => {
    const merged = mergeLayers([
      { name: '__base__', settings: { a: [1], b: { x: 1 }, c: 'k' } },
      { name: 'g', settings: { a: { y: 2 }, b: [2], c: [3] } },
    ]);
    expect(merged.values).toEqual({ a: { y: 2 }, b: [2], c: [3] });
    expect(merged.origins.c).toEqual({ kind: 'list', items: ['g'] });
  });

  it('inherits another group on top of __base__, the base first, without inheriting `inherits`', () => {
    const f = fleet(`
__base__: { run_list: ['recipe[base]'], post_run_list: ['recipe[last]'], description: base }
web: { run_list: ['recipe[web]'], default_attributes: { tier: web, port: 80 } }
web-canary:
  inherits: web
  run_list: ['recipe[canary]']
  default_attributes: { port: 8080 }
`);
    const canary = fleetGroup(f, 'web-canary');
    expect(canary.lineage).toEqual(['__base__', 'web', 'web-canary']);
    expect(canary.runList).toEqual(['recipe[base]', 'recipe[web]', 'recipe[canary]', 'recipe[last]']);
    expect(canary.settings.default_attributes).toEqual({ tier: 'web', port: 8080 });
    expect(canary.settings.description).toBe('base');
    expect(canary.settings).not.toHaveProperty('inherits');
  });

  it('gives no bootstrap to a group without a run list, and keeps one the file gives', () => {
    const f = fleet(`
plain: {}
custom: { run_list: ['recipe[x]'], bootstrap: /opt/setup.sh, decommission: /opt/drain.sh }
`);
    expect(fleetGroup(f, 'plain').bootstrap).toBeUndefined();
    expect(fleetGroup(f, 'custom')).toMatchObject({
      bootstrap: '/opt/setup.sh',
      decommission: '/opt/drain.sh',
    });
    expect(fleetGroup(f, 'custom').origins.bootstrap).toEqual({ kind: 'value', from: 'custom' });
  });

  it('parses requires into barriers, appended from the base like any list', () => {
    const f = fleet(`
__base__: { requires: ['nucleus:1'] }
nucleus: { requires: null }
body: { requires: ['nucleus:3'] }
`);
    expect(fleetGroup(f, 'body').requires).toEqual([
      { group: 'nucleus', count: 1 },
      { group: 'nucleus', count: 3 },
    ]);
    expect(fleetGroup(f, 'nucleus').requires).toEqual([]);
  });

  it('accepts an empty file, a group with nothing under it, and a $schema key', () => {
    expect(fleet('').groups.size).toBe(0);
    const f = fleet('$schema: ./docs/fleet.schema.json\nwww:\n');
    expect([...f.groups.keys()]).toEqual(['www']);
    expect(fleetGroup(f, 'www').settings).toEqual({});
  });
});
