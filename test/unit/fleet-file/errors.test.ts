/**
 * Every way a fleet file can be wrong, each reported with its file, line and column, all at once.
 */
import { describe, expect, it } from 'vitest';
import { FleetFileError, fleetFromText, fleetGroup, UnknownGroupError } from '#shared/fleet-file/index.ts';

/** The error lines for `text`, or a failure if it loads. */
function problems(text: string, file = 'fleet.yaml'): string[] {
  try {
    fleetFromText(text, file);
  } catch (error: unknown) {
    if (!(error instanceof FleetFileError)) throw error;
    const lines = error.message.split('\n');
    return lines.length === 1 ? lines : lines.slice(1).map((l) => l.trim());
  }
  throw new Error('the file loaded');
}

describe('bad fleet files', () => {
  it('checks reactions: the event, the command, unknown keys, and a watched group of the file', () => {
    expect(
      problems(
        '__base__:\n  reactions: [{ on: lost, group: ghost, run: x }]\n' +
          "www:\n  reactions:\n    - { on: left, group: www, run: '' }\n    - { on: joined, group: www, run: x, every: 5 }\n",
      ),
    ).toEqual([
      'fleet.yaml:5:13: www.reactions[0].on: Invalid option: expected one of "joined"|"lost"|"terminated"',
      'fleet.yaml:5:36: www.reactions[0].run: Too small: expected string to have >=1 characters',
      'fleet.yaml:6:41: www.reactions[1].every: unknown key',
    ]);
    expect(problems('__base__:\n  reactions: [{ on: lost, group: ghost, run: x }]\nwww:\n')).toEqual([
      'fleet.yaml:2:34: __base__.reactions[0].group: "ghost" is not a group of this file',
    ]);
  });

  it('names an unknown key with a suggestion, at the key', () => {
    expect(problems('www:\n  instance_typ: m5.large\n  colour: blue\n')).toEqual([
      'fleet.yaml:2:3: www.instance_typ: unknown key; did you mean "instance_type"?',
      'fleet.yaml:3:3: www.colour: unknown key',
    ]);
  });

  it('names a wrong type at the value', () => {
    expect(problems('__base__:\n  security_groups: external\nwww:\n  run_list: [1]\n')).toEqual([
      'fleet.yaml:2:20: __base__.security_groups: Invalid input: expected array, received string',
      'fleet.yaml:4:14: www.run_list[0]: Invalid input: expected string, received number',
    ]);
  });

  it('explains a bad autoscale value, and checks inside the map', () => {
    expect(problems('a:\n  autoscale: true\nb:\n  autoscale: { timeout: 10, nodes: 2 }\n')).toEqual([
      'fleet.yaml:2:14: a.autoscale: expected false or a map of asg, node_min, node_max, timeout',
      'fleet.yaml:4:25: b.autoscale.timeout: Too small: expected number to be >=30',
      'fleet.yaml:4:29: b.autoscale.nodes: unknown key',
    ]);
  });

  it('refuses a builder type that could not be a Packer source label', () => {
    expect(problems("a:\n  type: 'amazon ebs\"'\n")).toEqual([
      'fleet.yaml:2:9: a.type: a Packer builder type is lowercase letters, digits and "-", e.g. amazon-ebs',
    ]);
  });

  it('refuses a run-list entry that is not one and a malformed requirement', () => {
    expect(problems("a:\n  run_list: ['recipe[x']\n  requires: [nucleus]\n")).toEqual([
      'fleet.yaml:2:14: a.run_list[0]: a run-list entry is recipe[cookbook::recipe], role[name] or a recipe name',
      'fleet.yaml:3:14: a.requires[0]: a requirement is GROUP:N, e.g. nucleus:1',
    ]);
  });

  it('points at an inherits naming a missing group', () => {
    expect(problems('a:\n  inherits: bee\n')).toEqual([
      'fleet.yaml:2:13: a.inherits: inherits from "bee", which is not a group of this file',
    ]);
  });

  it('reports an inheritance cycle from each group in it, not from a group that leads into it', () => {
    expect(
      problems('x: { inherits: a }\na: { inherits: b }\nb: { inherits: c }\nc: { inherits: a }\n'),
    ).toEqual([
      'fleet.yaml:2:16: a.inherits: inheritance cycle: a → b → c → a',
      'fleet.yaml:3:16: b.inherits: inheritance cycle: b → c → a → b',
      'fleet.yaml:4:16: c.inherits: inheritance cycle: c → a → b → c',
    ]);
  });

  it('refuses barriers on missing groups, on the group itself (even inherited) and in a cycle', () => {
    expect(
      problems(`__base__: { requires: ['nucleus:1'] }
nucleus: {}
a: { requires: ['ghost:2'] }
b: { requires: ['c:1'] }
c: { requires: ['b:1'] }
`),
    ).toEqual([
      'fleet.yaml:1:24: __base__.requires[0]: nucleus cannot wait for itself (it inherits this from __base__)',
      'fleet.yaml:3:17: a.requires[0]: "ghost" is not a group of this file',
      'fleet.yaml:4:16: b.requires: requires cycle: b → c → b (none of them could ever bootstrap)',
    ]);
  });

  it('refuses node_max below node_min after the merge, at the value that made it so', () => {
    expect(problems('__base__: { autoscale: { node_min: 3 } }\nw:\n  autoscale: { node_max: 2 }\n')).toEqual([
      'fleet.yaml:3:26: w.autoscale.node_max: node_max 2 is below node_min 3',
    ]);
  });

  it('refuses credentials in Packer settings and a group fact that is not the group', () => {
    expect(problems('a:\n  packer: { secret_key: x }\n  facts: { group: b }\n')).toEqual([
      'fleet.yaml:2:25: a.packer.secret_key: no credentials in the fleet file: Packer reads its own (environment, shared config, instance role)',
      'fleet.yaml:3:19: a.facts.group: the group fact of a\'s hosts is "a"',
    ]);
  });

  it('refuses bad group names and reserved ones', () => {
    expect(problems('__bsae__: {}\nweb server: {}\n')).toEqual([
      'fleet.yaml:1:1: __bsae__: names starting with "__" are reserved (the base group is spelled __base__)',
      'fleet.yaml:2:1: web server: a group name is letters, digits, "_" and "-" (starting with a letter or digit), at most 64 characters',
    ]);
  });

  it('refuses inherits in __base__, a file that is not a map, duplicate keys and YAML errors', () => {
    expect(problems('__base__: { inherits: a }\na: {}\n')).toEqual([
      'fleet.yaml:1:13: __base__.inherits: unknown key: __base__ is what every group inherits, it inherits nothing',
    ]);
    expect(problems('- a\n- b\n')).toEqual([
      'fleet.yaml:1:1: the fleet file is a map of group names to their settings',
    ]);
    expect(problems('a: {}\na: {}\n')).toEqual(['fleet.yaml:2:1: Map keys must be unique']);
    expect(problems('{"a": {"run_list": [}\n', 'fleet.json')[0]).toMatch(/^fleet\.json:1:\d+: /);
  });

  it('refuses YAML merge keys, which would bypass the merge rules', () => {
    expect(problems('a: { region: r }\nb:\n  <<: { region: s }\n')).toEqual([
      'fleet.yaml:3:3: b.<<: unknown key',
    ]);
  });

  it('refuses an alias bomb and an alias to a missing anchor', () => {
    const bomb = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      bomb.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );

    expect(problems(bomb.join('\n'))).toEqual([
      'fleet.yaml: Excessive alias count indicates a resource exhaustion attack',
    ]);
    expect(problems('a: { default_attributes: { b: *x } }')[0]).toMatch(/^fleet\.yaml: Unresolved alias/);
  });

  it('refuses two groups in one Auto Scaling group, also when one inherits the other', () => {
    expect(
      problems(`body:
  autoscale: { asg: cell-body, node_max: 10 }
body-stateful:
  inherits: body
  autoscale: { node_max: 5 }
www: { autoscale: { asg: cell-body } }
`),
    ).toEqual([
      'fleet.yaml:2:21: body-stateful.autoscale.asg: Auto Scaling group "cell-body" is already body\'s (inherited from body): give body-stateful its own autoscale.asg',
      'fleet.yaml:6:26: www.autoscale.asg: Auto Scaling group "cell-body" is already body\'s: give www its own autoscale.asg',
    ]);
  });

  it('refuses a __proto__ key rather than lose it', () => {
    expect(problems('g:\n  default_attributes: { a: 1, __proto__: { polluted: true } }\n')).toEqual([
      'fleet.yaml:2:31: g.default_attributes.__proto__: a key named __proto__ cannot be kept (JavaScript objects treat it specially): rename it',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names the groups there are when asked for a missing one', () => {
    const f = fleetFromText('a: {}\nb: {}\n', 'fleet.yaml');
    expect(() => fleetGroup(f, 'c')).toThrow(UnknownGroupError);
    expect(() => fleetGroup(f, 'c')).toThrow('no group "c" in the fleet file (groups: a, b)');
  });
});
