import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentConfigError, loadAgentConfig, missingKeys, type ConfigSources } from '#agent/setup/config.ts';
import {
  CONFIG_KEYS,
  DEFAULT_METADATA_ENDPOINT,
  agentConfigSchema,
  envName,
} from '#agent/setup/config-schema.ts';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-config-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configFile(text: string): string {
  const path = join(dir, 'agent.yaml');
  writeFileSync(path, text);
  return path;
}

/** Loads with no ambient environment and no default file, unless the test gives them. */
function load(sources: ConfigSources = {}) {
  return loadAgentConfig({ env: {}, readDefaultPath: false, ...sources });
}

function problemsOf(sources: ConfigSources): string[] {
  try {
    load(sources);
  } catch (e: unknown) {
    if (e instanceof AgentConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadAgentConfig', () => {
  it('gives every key its documented default when nothing is set', () => {
    const { config } = load();

    expect(config).toMatchObject({
      state_dir: '/var/lib/drover',
      heartbeat_sec: 300,
      poll_wait_sec: 20,
      concurrency: 4,
      queue_limit: 100,
      output_cap_bytes: 65_536,
      kill_grace_sec: 2,
      ack_delay_sec: 0.25,
      shutdown_grace_sec: 30,
      log_level: 'info',
      ec2: 'auto',
      metadata_endpoint: DEFAULT_METADATA_ENDPOINT,
      facts: { files: [], class_files: [], refresh_sec: 300 },
      policy: { default: 'allow', allow: [], deny: [], shell: true },
      dedupe: { max_entries: 10_000, max_age_sec: 604_800 },
    });
  });

  it('lets the environment override the file and flags override both', () => {
    const path = configFile('stage: prod\nheartbeat_sec: 30\nconcurrency: 2\nfacts:\n  files: [/a.yaml]\n');

    const { config, origins } = load({
      flags: { config: path, concurrency: 8 },
      env: { DROVER_AGENT_HEARTBEAT_SEC: '15', DROVER_AGENT_CONCURRENCY: '3' },
    });

    expect(config).toMatchObject({
      stage: 'prod',
      heartbeat_sec: 15,
      concurrency: 8,
      facts: { files: ['/a.yaml'] },
    });
    expect(origins.get('stage')).toBe(path);
    expect(origins.get('heartbeat_sec')).toBe('env DROVER_AGENT_HEARTBEAT_SEC');
    expect(origins.get('concurrency')).toBe('flag --concurrency');
  });

  it('reads typed values from the environment: numbers, booleans, comma or JSON lists', () => {
    const { config } = load({
      env: {
        DROVER_AGENT_OUTPUT_CAP_BYTES: '2048',
        DROVER_AGENT_POLICY_SHELL: 'no',
        DROVER_AGENT_POLICY_DEFAULT: 'deny',
        DROVER_AGENT_POLICY_ALLOW: '["uptime", "/^systemctl (status|restart) nginx$/"]',
        DROVER_AGENT_FACTS_FILES: '/etc/drover/facts.yaml, /etc/facter.json',
        DROVER_AGENT_ENDPOINTS_SQS: 'http://127.0.0.1:9324',
      },
    });

    expect(config.output_cap_bytes).toBe(2048);
    expect(config.policy).toMatchObject({ shell: false, default: 'deny' });
    expect(config.policy.allow).toEqual(['uptime', '/^systemctl (status|restart) nginx$/']);
    expect(config.facts.files).toEqual(['/etc/drover/facts.yaml', '/etc/facter.json']);
    expect(config.endpoints.sqs).toBe('http://127.0.0.1:9324');
  });

  it('treats empty flag lists as not given, so the file still counts', () => {
    const path = configFile('facts:\n  class_files: [/classes.txt]\n');

    const { config } = load({ flags: { config: path, classes: [] } });

    expect(config.facts.class_files).toEqual(['/classes.txt']);
  });

  it('names the file, the key and the problem for a bad value in the file', () => {
    const path = configFile('concurrency: 0\npolicy:\n  default: maybe\n');

    expect(problemsOf({ flags: { config: path } })).toEqual([
      `config ${path} key "concurrency": must be at least 1`,
      `config ${path} key "policy.default": must be "allow" or "deny"`,
    ]);
  });

  it('names the environment variable or the flag a bad value came from', () => {
    expect(problemsOf({ env: { DROVER_AGENT_HEARTBEAT_SEC: 'often' } })).toEqual([
      'config env DROVER_AGENT_HEARTBEAT_SEC key "heartbeat_sec": must be a number',
    ]);
    expect(problemsOf({ flags: { pollWait: 30 } })).toEqual([
      'config flag --poll-wait key "poll_wait_sec": must be at most 20',
    ]);
  });

  it("refuses a stage name that another stage's inbox pattern would cover", () => {
    expect(problemsOf({ env: { DROVER_AGENT_STAGE: 'ci-node-x' } })).toEqual([
      'config env DROVER_AGENT_STAGE key "stage": must be a stage name: no "-node" segment after the first: drover-<stage>-node-* names the inboxes of a stage, so agents of another stage could reach this one\'s queues',
    ]);
  });

  it('refuses keys it does not know, in the file and in the environment', () => {
    const path = configFile('stage: prod\nheartbeat: 30\npolicy:\n  alow: [uptime]\n');

    expect(problemsOf({ flags: { config: path } }).sort()).toEqual([
      `config ${path} key "heartbeat": is not a setting of the agent (see docs/agent.md)`,
      `config ${path} key "policy.alow": is not a setting of the agent (see docs/agent.md)`,
    ]);
    expect(problemsOf({ env: { DROVER_AGENT_CONCURENCY: '4' } })).toEqual([
      'config env DROVER_AGENT_CONCURENCY: not a setting of the agent (see docs/agent.md for the list)',
    ]);
  });

  it('refuses allow patterns that would have no effect, and patterns that do not compile', () => {
    const path = configFile('policy:\n  allow: [uptime]\n');

    expect(problemsOf({ flags: { config: path } })).toEqual([
      `config ${path} key "policy.allow": has no effect while policy.default is "allow"; set policy.default to "deny" to run only these`,
    ]);
    expect(problemsOf({ flags: { deny: ['/rm (-rf/'] } })[0]).toMatch(
      /^config flag --deny key "policy\.deny\.0": is not a valid regular expression: /,
    );
  });

  it('says where a YAML syntax error is', () => {
    const path = configFile('stage: prod\n  oops: [\n');

    expect(problemsOf({ flags: { config: path } })[0]).toMatch(
      new RegExp(`^config ${path}: does not parse as YAML: .*line 1`),
    );
  });

  it('refuses a config file that was asked for and is missing', () => {
    const missing = join(dir, 'missing.yaml');

    expect(problemsOf({ env: { DROVER_AGENT_CONFIG: missing } })).toEqual([
      `config ${missing}: cannot be read: no such file`,
    ]);
  });

  it('names every way to set a required key that is missing', () => {
    const { config, path } = load();

    expect(missingKeys(config, ['stage'], path)).toEqual([
      'config key "stage": is required; set it in /etc/drover/agent.yaml, or with DROVER_AGENT_STAGE or --stage',
    ]);
  });

  it('loads the skeleton that install.sh lays down', () => {
    const skeleton = join(ROOT, 'agent', 'packaging', 'agent.yaml');

    const { config } = load({ flags: { config: skeleton } });

    expect(config).toMatchObject({ stage: 'prod', kms_key_id: 'alias/drover-prod-signing' });
    expect(missingKeys(config, ['stage', 'replies_queue_url'], skeleton)).toEqual([]);
  });
});

describe('CONFIG_KEYS', () => {
  /** Dotted paths of the schema's leaves: nested mappings (facts, policy, …) are walked into. */
  const leaves = (shape: Record<string, z.ZodType>, prefix = ''): string[] =>
    Object.entries(shape).flatMap(([name, schema]) => {
      const inner = schema instanceof z.ZodDefault ? schema.unwrap() : schema;
      return inner instanceof z.ZodObject
        ? leaves(inner.shape as Record<string, z.ZodType>, `${prefix}${name}.`)
        : [`${prefix}${name}`];
    });

  it('lists exactly the keys of the schema, each with its own flag and environment variable', () => {
    const schemaKeys = leaves(agentConfigSchema.shape).sort();

    expect(CONFIG_KEYS.map((k) => k.key).sort()).toEqual(schemaKeys);
    expect(new Set(CONFIG_KEYS.map((k) => k.flag.split(' ')[0])).size).toBe(CONFIG_KEYS.length);
  });

  it('are all documented in docs/agent.md with their environment variable and flag', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'agent.md'), 'utf8');

    for (const key of CONFIG_KEYS) {
      expect(docs, key.key).toContain(`\`${key.key}\``);
      expect(docs, key.key).toContain(envName(key.key));
      expect(docs, key.key).toContain(key.flag.split(' ')[0]);
    }
  });
});
