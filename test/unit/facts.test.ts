/** The agent's facts: fact files (plain, facter, puppet), classes, built-ins, and its own facts. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFacts, type LoadFactsOptions } from '#agent/setup/facts.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';

const tmp = tempDirPerTest('drover-facts-');
const { file } = tmp;

function options(overrides: Partial<LoadFactsOptions> = {}): LoadFactsOptions {
  return {
    identity: 'web-1.example.com',
    factFiles: [],
    classFiles: [],
    agentVersion: '1.2.3',
    osReleasePath: file('os-release', 'NAME="Amazon Linux"\nVERSION_ID="2023"\nID=amzn\n'),
    ...overrides,
  };
}

describe('loadFacts', () => {
  it('merges YAML and JSON fact files, later files winning at top level, nested values kept', async () => {
    const yamlFile = file(
      'facter.yaml',
      'role: web\nenv: staging\nnetworking:\n  ip: 10.0.0.5\n  mtu: 9001\n',
    );
    const jsonFile = file(
      'extra.json',
      JSON.stringify({ env: 'production', disks: { sda: { size_gb: 100 } } }),
    );

    const { facts } = await loadFacts(options({ factFiles: [yamlFile, jsonFile] }));

    expect(facts).toMatchObject({
      role: 'web',
      env: 'production',
      networking: { ip: '10.0.0.5', mtu: 9001 },
      disks: { sda: { size_gb: 100 } },
    });
  });

  it('skips a file that is missing or does not parse, with a warning, and loads the others', async () => {
    const broken = file('broken.yaml', 'role: [web\n');
    const list = file('list.json', '[1, 2]');
    const missing = join(tmp.path(), 'missing.yaml');
    const good = file('good.yml', 'role: db\n');
    const warnings: string[] = [];

    const { facts } = await loadFacts(
      options({ factFiles: [broken, list, missing, good], onWarning: (message) => warnings.push(message) }),
    );

    expect(facts.role).toBe('db');
    expect(warnings).toHaveLength(3);
    expect(warnings[0]?.startsWith(`${broken}: does not parse: `)).toBe(true);
    expect(warnings[0]).not.toContain('\n');
    expect(warnings[1]).toBe(`${list}: is a list, expected a mapping of fact names to values`);
    expect(warnings[2]).toBe(`${missing}: no such file`);
  });

  it('reads classes from word lists, ignoring comments, sorted and deduplicated', async () => {
    const first = file(
      'classes.txt',
      '# puppet classes\nsettings\nrole::web  profile::nginx\n\nntp # time\n',
    );
    const second = file('more.txt', 'ntp\nbase\n');

    const { classes } = await loadFacts(options({ classFiles: [first, second] }));

    expect(classes).toEqual(['base', 'ntp', 'profile::nginx', 'role::web', 'settings']);
  });

  it('merges the output of the facts command over the fact files', async () => {
    const yamlFile = file('facter.yaml', 'role: web\nenv: staging\n');

    const { facts } = await loadFacts(
      options({
        factFiles: [yamlFile],
        factsCommand: `echo '{"env": "production", "rack": {"row": 4}}'`,
      }),
    );

    expect(facts).toMatchObject({ role: 'web', env: 'production', rack: { row: 4 } });
  });

  it('skips a failing facts command with a warning', async () => {
    const warnings: string[] = [];

    const { facts } = await loadFacts(
      options({ factsCommand: 'echo boom >&2; exit 2', onWarning: (message) => warnings.push(message) }),
    );

    expect(warnings).toEqual(['facts command `echo boom >&2; exit 2`: exited 2: boom']);
    expect(facts.identity).toBe('web-1.example.com');
  });

  it('always reports the built-in facts', async () => {
    const { facts } = await loadFacts(options());

    expect(facts).toMatchObject({
      identity: 'web-1.example.com',
      agent_version: '1.2.3',
      hostname: expect.any(String),
      arch: expect.any(String),
      cpus: expect.any(Number),
      memory_mb: expect.any(Number),
      os: { family: process.platform, release: expect.any(String), name: 'Amazon Linux', version_id: '2023' },
    });
    expect(facts.cpus).toBeGreaterThan(0);
  });

  it('lets files override built-ins but never identity or agent_version', async () => {
    const spoof = file('spoof.yaml', 'identity: db-1.example.com\nagent_version: 9.9.9\nhostname: custom\n');

    const { facts } = await loadFacts(
      options({ factFiles: [spoof], factsCommand: "echo 'identity: other'" }),
    );

    expect(facts.identity).toBe('web-1.example.com');
    expect(facts.agent_version).toBe('1.2.3');
    expect(facts.hostname).toBe('custom');
  });

  it('leaves out distro facts when os-release cannot be read', async () => {
    const { facts } = await loadFacts(options({ osReleasePath: join(tmp.path(), 'absent') }));

    expect(facts.os).not.toHaveProperty('name');
    expect(facts.os).toHaveProperty('family');
  });
});

describe('loadFacts with facter and puppet output', () => {
  it('reads facter YAML with Ruby type tags', async () => {
    const facter = file(
      'facts.yaml',
      '--- !ruby/object:Puppet::Node::Facts\nname: web-1.example.com\nvalues:\n  role: web\n  processors: !ruby/hash:Hash\n    count: 4\nexpiration: 2024-01-01\n',
    );
    const warnings: string[] = [];

    const { facts } = await loadFacts(options({ factFiles: [facter], onWarning: (w) => warnings.push(w) }));

    expect(facts).toMatchObject({ role: 'web', processors: { count: 4 } });
    expect(facts).not.toHaveProperty('values');
    expect(warnings).toEqual([]);
  });

  it('unwraps `puppet facts` JSON but leaves an ordinary document with a `values` fact alone', async () => {
    const puppet = file(
      'puppet.json',
      JSON.stringify({ name: 'web-1', values: { role: 'db' }, timestamp: 'x' }),
    );
    const plain = file('plain.json', JSON.stringify({ name: 'svc', values: [1, 2], team: 'data' }));

    const { facts } = await loadFacts(options({ factFiles: [puppet, plain] }));

    expect(facts).toMatchObject({ role: 'db', name: 'svc', values: [1, 2], team: 'data' });
  });

  it('puts the agent’s own facts under the files’ and keeps the others loading past a bad file', async () => {
    const broken = file('broken.yaml', 'role: [web\n');
    const good = file('good.yaml', 'az: us-east-1c\n');
    const warnings: string[] = [];

    const { facts } = await loadFacts(
      options({
        baseFacts: { az: 'us-east-1a', ec2: { instance_id: 'i-1' } },
        factFiles: [broken, good],
        onWarning: (w) => warnings.push(w),
      }),
    );

    expect(facts).toMatchObject({ az: 'us-east-1c', ec2: { instance_id: 'i-1' } });
    expect(warnings).toEqual([expect.stringMatching(/broken\.yaml: does not parse/)]);
  });
});
