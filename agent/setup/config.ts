/**
 * Loads the agent's settings: defaults, then the config file, then `DROVER_AGENT_*` environment
 * variables, then flags, each layer overriding the one before. A bad value stops the agent with
 * one line per problem naming where it came from, the key and what is wrong, e.g.
 * `config /etc/drover/agent.yaml key "policy.allow": …`; never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import {
  CONFIG_KEYS,
  CONFIG_PATH_ENV,
  DEFAULT_CONFIG_PATH,
  ENV_PREFIX,
  agentConfigSchema,
  envName,
  type AgentConfig,
  type ConfigKey,
} from './config-schema.ts';

/** The configuration cannot be used; `problems` holds one line per problem. */
export class AgentConfigError extends Error {
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(problems.join('\n'), options);
    this.name = 'AgentConfigError';
  }
}

export interface ConfigSources {
  /** Flags as commander parsed them (`{config, heartbeat, facts: [...]}`); undefined = not given. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /**
   * Defaults of the mode the agent runs in, applied over the built-in ones and under the file
   * (local mode: `{ec2: 'never'}`), by dotted key.
   */
  modeDefaults?: Record<string, unknown>;
  /** Read the default config path when no path was given; local mode does not. */
  readDefaultPath?: boolean;
}

export interface LoadedConfig {
  config: AgentConfig;
  /** The file read, if any. */
  path: string | undefined;
  /** Where each key set by the file, the environment or a flag came from. */
  origins: ReadonlyMap<string, string>;
}

type Tree = Record<string, unknown>;

/** Loads and validates the configuration; throws {@link AgentConfigError}. */
export function loadAgentConfig(sources: ConfigSources = {}): LoadedConfig {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const merged: Tree = {};
  const origins = new Map<string, string>();
  const problems: string[] = [];

  for (const [key, value] of Object.entries(sources.modeDefaults ?? {}))
    setPath(merged, key.split('.'), value);

  const explicitPath = stringOrUndefined(flags.config) ?? stringOrUndefined(env[CONFIG_PATH_ENV]);
  const path = explicitPath ?? (sources.readDefaultPath === false ? undefined : DEFAULT_CONFIG_PATH);
  let fileRead: string | undefined;
  if (path !== undefined) {
    const file = readConfigFile(path, explicitPath !== undefined);
    if (typeof file === 'string') throw new AgentConfigError([file]);
    if (file !== undefined) {
      fileRead = path;
      mergeTree(merged, file, [], path, origins);
    }
  }

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_PATH_ENV || raw === undefined || raw === '') continue;
    const entry = CONFIG_KEYS.find((k) => envName(k.key) === name);
    if (!entry) {
      problems.push(`config env ${name}: not a setting of the agent (see docs/agent.md for the list)`);
      continue;
    }
    setPath(merged, entry.key.split('.'), fromEnv(entry, raw));
    origins.set(entry.key, `env ${name}`);
  }

  for (const entry of CONFIG_KEYS) {
    const value = flags[entry.option];
    if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
    setPath(merged, entry.key.split('.'), value);
    origins.set(entry.key, `flag ${entry.flag.split(' ')[0]}`);
  }
  if (problems.length > 0) throw new AgentConfigError(problems);

  const parsed = agentConfigSchema.safeParse(merged);
  if (!parsed.success) throw new AgentConfigError(describeIssues(parsed.error, origins));
  return { config: parsed.data, path: fileRead, origins };
}

/** Problems for keys the mode needs but nobody set, naming every way to set them. */
export function missingKeys(config: AgentConfig, keys: string[], path: string | undefined): string[] {
  return keys
    .filter((key) => getPath(config, key.split('.')) === undefined)
    .map((key) => {
      const entry = CONFIG_KEYS.find((k) => k.key === key);
      const where = [path ?? DEFAULT_CONFIG_PATH, envName(key), entry?.flag.split(' ')[0]].filter(Boolean);
      return `config key "${key}": is required; set it in ${where[0]}, or with ${where.slice(1).join(' or ')}`;
    });
}

/** The parsed file, undefined when there is none to read, or a problem line. */
function readConfigFile(path: string, explicit: boolean): Tree | undefined | string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e: unknown) {
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    if (code === 'ENOENT' && !explicit) return undefined;
    return `config ${path}: cannot be read: ${code === 'ENOENT' ? 'no such file' : e instanceof Error ? e.message : e}`;
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e: unknown) {
    const first = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return `config ${path}: does not parse as YAML: ${first}`;
  }
  if (value === null || value === undefined) return {};
  if (!isTree(value)) return `config ${path}: must be a mapping of settings, not ${describe(value)}`;
  return value;
}

function describeIssues(error: z.ZodError, origins: ReadonlyMap<string, string>): string[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    const line = (path: string[], message: string) =>
      `config ${originOf(path, origins)} key "${path.join('.')}": ${message}`;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((name) =>
        line([...base, name], 'is not a setting of the agent (see docs/agent.md)'),
      );
    }
    return [line(base, issue.message)];
  });
}

/** The source of the longest prefix of `path` that a layer set. */
function originOf(path: string[], origins: ReadonlyMap<string, string>): string {
  for (let length = path.length; length > 0; length--) {
    const origin = origins.get(path.slice(0, length).join('.'));
    if (origin !== undefined) return origin;
  }
  return 'default';
}

function mergeTree(
  target: Tree,
  source: Tree,
  prefix: string[],
  origin: string,
  origins: Map<string, string>,
) {
  for (const [name, value] of Object.entries(source)) {
    const path = [...prefix, name];
    if (isTree(value)) {
      const existing = target[name];
      const child: Tree = isTree(existing) ? existing : {};
      target[name] = child;
      origins.set(path.join('.'), origin);
      mergeTree(child, value, path, origin, origins);
    } else {
      target[name] = value;
      origins.set(path.join('.'), origin);
    }
  }
}

function fromEnv(entry: ConfigKey, raw: string): unknown {
  const value = raw.trim();
  switch (entry.kind) {
    case 'number':
      return value !== '' && Number.isFinite(Number(value)) ? Number(value) : raw;
    case 'boolean':
      if (/^(true|yes|on|1)$/i.test(value)) return true;
      if (/^(false|no|off|0)$/i.test(value)) return false;
      return raw;
    case 'list':
      if (value.startsWith('[')) {
        try {
          return JSON.parse(value) as unknown;
        } catch {
          return raw;
        }
      }
      return value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'string':
      return raw;
  }
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const part of path.slice(0, -1)) {
    const next = node[part];
    if (!isTree(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[path.at(-1)!] = value;
}

function getPath(tree: unknown, path: string[]): unknown {
  let node = tree;
  for (const part of path) node = isTree(node) ? node[part] : undefined;
  return node;
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  return Array.isArray(value) ? 'a list' : `a ${typeof value}`;
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
