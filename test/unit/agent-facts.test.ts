/** Fact sources beyond plain YAML/JSON: facter and puppet output, and the agent's own facts. */
import { describe, expect, it } from 'vitest';
import { loadFacts, type LoadFactsOptions } from '#agent/setup/facts.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';

const { file } = tempDirPerTest('drover-facts-');

function options(overrides: Partial<LoadFactsOptions> = {}): LoadFactsOptions {
  return { identity: 'web-1', factFiles: [], classFiles: [], agentVersion: '1.0.0', ...overrides };
}

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
