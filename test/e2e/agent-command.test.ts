/**
 * `drover agent` as bin/drover.js composes it: the agent's own flags (generated from its table of
 * settings), and a configuration it cannot use reported in full, one line per problem, exit 4.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { droverCli, stopCliProcesses } from '../helpers/cli.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';

const home = tempDirPerTest('drover-agent-command-');
afterEach(stopCliProcesses);

describe('drover agent', () => {
  it('reports every problem of its configuration, flags included, one line each, and exits 4', async () => {
    const config = join(home.path(), 'agent.yaml');
    writeFileSync(config, stringify({ stage: 'prod', concurrency: 0 }));

    // --queue-limit and --kill-grace exist because every key of agent.yaml has its flag.
    const run = await droverCli(home.path(), [
      'agent',
      '--config',
      config,
      '--queue-limit',
      'lots',
      '--kill-grace',
      '9999',
    ]);

    expect(run.code).toBe(4);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.every((line) => line.startsWith('drover agent: '))).toBe(true);
    expect(run.stderr).toContain(`key "concurrency": must be at least 1`);
    expect(run.stderr).toMatch(/"queue_limit"/);
    expect(run.stderr).toMatch(/"kill_grace_sec": must be at most 600/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('does not take drover --stage for its own: that is the stage drover talks to', async () => {
    const run = await droverCli(home.path(), ['agent', '--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--replies-queue-url <url>');
    expect(run.stdout).toMatch(/Global Options:[\s\S]*--stage <name>/);
    expect(run.stdout.split('Global Options:')[0]).not.toContain('--stage');
  });
});
