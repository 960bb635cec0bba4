/**
 * What the agent tells the control plane about its host, for filters to match on: facts (a
 * mapping, from YAML/JSON files such as facter output, an optional command, and built-ins) and
 * classes (words from files such as puppet's classes.txt).
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { executeCommand } from '../execute/executor.ts';

/** Seconds the facts command may run before it is killed and its facts skipped. */
export const FACTS_COMMAND_TIMEOUT_SEC = 10;

/** Facts command output beyond this is not parsed (a cut document would not parse anyway). */
const FACTS_COMMAND_OUTPUT_CAP_BYTES = 8 * 1024 * 1024;

export interface LoadFactsOptions {
  /** The node's identity, as configured; always the `identity` fact. */
  identity: string;
  /** Facts the agent knows by itself beyond the built-ins (EC2 identity); files override them. */
  baseFacts?: Record<string, unknown>;
  /** YAML (`.yaml`/`.yml`), JSON (`.json`) or other (read as YAML) files, each a mapping. */
  factFiles: string[];
  /** Word lists (whitespace separated, `#` comments) whose words are the node's classes. */
  classFiles: string[];
  agentVersion: string;
  /** Run with `bash -c`; its stdout, a YAML or JSON mapping, is merged over the fact files. */
  factsCommand?: string;
  /** Environment of the facts command; the agent's own by default. */
  factsCommandEnv?: Readonly<Record<string, string>>;
  /** Told about each source skipped, as `<source>: <reason>`. */
  onWarning?: (message: string) => void;
  /** Where the distro name and version are read from; `/etc/os-release` by default. */
  osReleasePath?: string;
}

export interface LoadedFacts {
  facts: Record<string, unknown>;
  /** Sorted, without duplicates. */
  classes: string[];
}

/**
 * Gathers the node's facts and classes. Facts are merged at top level, later sources winning:
 * built-ins and `baseFacts`, then fact files in order, then the facts command. Fact files may be
 * facter or puppet output: Ruby type tags are ignored and a `Puppet::Node::Facts` document
 * (`name`, `values`, …) contributes its `values`. `identity` and `agent_version`
 * always come from the options: no file can impersonate another node or version. Built-ins are
 * `identity`, `hostname`, `os` ({family, release, name?, version_id?}), `arch`, `cpus`,
 * `memory_mb`, `agent_version`.
 *
 * Never rejects for a bad source: a file that is missing or does not parse, or a failing facts
 * command, is reported through `onWarning` and skipped, and the other sources still count.
 */
export async function loadFacts(options: LoadFactsOptions): Promise<LoadedFacts> {
  const warn = options.onWarning ?? (() => {});
  let facts: Record<string, unknown> = { ...(await builtInFacts(options)), ...options.baseFacts };

  for (const path of options.factFiles) {
    try {
      facts = { ...facts, ...parseMapping(await readFile(path, 'utf8'), extname(path).toLowerCase()) };
    } catch (e: unknown) {
      warn(`${path}: ${reasonOf(e)}`);
    }
  }

  if (options.factsCommand !== undefined) {
    try {
      facts = { ...facts, ...(await runFactsCommand(options.factsCommand, options.factsCommandEnv)) };
    } catch (e: unknown) {
      warn(`facts command \`${options.factsCommand}\`: ${reasonOf(e)}`);
    }
  }

  const classes = new Set<string>();
  for (const path of options.classFiles) {
    try {
      for (const word of parseWords(await readFile(path, 'utf8'))) classes.add(word);
    } catch (e: unknown) {
      warn(`${path}: ${reasonOf(e)}`);
    }
  }

  return {
    facts: { ...facts, identity: options.identity, agent_version: options.agentVersion },
    classes: [...classes].sort(),
  };
}

/** A fact source that cannot be used; its message is the reason shown in the warning. */
class FactSourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FactSourceError';
  }
}

async function builtInFacts(options: LoadFactsOptions): Promise<Record<string, unknown>> {
  const cpuCount = os.cpus().length;
  return {
    identity: options.identity,
    hostname: os.hostname(),
    os: {
      family: os.platform(),
      release: os.release(),
      ...(await readOsRelease(options.osReleasePath ?? '/etc/os-release')),
    },
    arch: os.arch(),
    cpus: cpuCount > 0 ? cpuCount : os.availableParallelism(),
    memory_mb: Math.round(os.totalmem() / (1024 * 1024)),
    agent_version: options.agentVersion,
  };
}

/** `name` and `version_id` of the distribution, when os-release is readable; nothing otherwise. */
async function readOsRelease(path: string): Promise<{ name?: string; version_id?: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    // Not every system has os-release (macOS, minimal containers): the distro facts are optional.
    return {};
  }
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] === undefined || match[2] === undefined) continue;
    fields.set(match[1], unquote(match[2].trim()));
  }
  const name = fields.get('NAME');
  const versionId = fields.get('VERSION_ID');
  return {
    ...(name !== undefined ? { name } : {}),
    ...(versionId !== undefined ? { version_id: versionId } : {}),
  };
}

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

async function runFactsCommand(
  command: string,
  env: Readonly<Record<string, string>> | undefined,
): Promise<Record<string, unknown>> {
  const result = await executeCommand(
    { shell: command },
    {
      timeoutSec: FACTS_COMMAND_TIMEOUT_SEC,
      env: env ?? definedValues(process.env),
      outputCapBytes: FACTS_COMMAND_OUTPUT_CAP_BYTES,
    },
  );
  if (result.error !== undefined) throw new FactSourceError(result.error);
  if (result.exitCode !== 0) {
    const stderr = result.stderr.text.trim().split('\n')[0] ?? '';
    const ending = result.exitCode === null ? `killed by ${result.signal}` : `exited ${result.exitCode}`;
    throw new FactSourceError(stderr === '' ? ending : `${ending}: ${stderr}`);
  }
  if (result.stdout.truncated) {
    throw new FactSourceError(`output is larger than ${FACTS_COMMAND_OUTPUT_CAP_BYTES} bytes`);
  }
  return parseMapping(result.stdout.text, '');
}

/** Parses a fact document: JSON for `.json`, YAML (a superset of JSON) otherwise. */
function parseMapping(text: string, extension: string): Record<string, unknown> {
  let value: unknown;
  try {
    // Facter and puppet YAML carries Ruby tags (`!ruby/object:Puppet::Node::Facts`): read through them.
    value = extension === '.json' ? JSON.parse(text) : parseYaml(text, { logLevel: 'error' });
  } catch (e: unknown) {
    // YAML errors carry a multi-line excerpt of the source; the first line says what and where.
    throw new FactSourceError(`does not parse: ${reasonOf(e).split('\n')[0]}`, { cause: e });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'empty' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
    throw new FactSourceError(`is ${kind}, expected a mapping of fact names to values`);
  }
  return unwrapPuppetFacts(value as Record<string, unknown>);
}

const PUPPET_FACTS_KEYS = new Set(['name', 'values', 'timestamp', 'expiration']);

/** `puppet facts` output wraps the facts: `{name, values, timestamp, expiration}`. */
function unwrapPuppetFacts(document: Record<string, unknown>): Record<string, unknown> {
  const { name, values } = document;
  const isWrapper =
    typeof name === 'string' &&
    typeof values === 'object' &&
    values !== null &&
    !Array.isArray(values) &&
    Object.keys(document).every((key) => PUPPET_FACTS_KEYS.has(key));
  return isWrapper ? (values as Record<string, unknown>) : document;
}

function parseWords(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(/\s+/))
    .filter((word) => word !== '');
}

function definedValues(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

function reasonOf(e: unknown): string {
  if (e instanceof FactSourceError) return e.message;
  if (e instanceof Error && 'code' in e && e.code === 'ENOENT') return 'no such file';
  return e instanceof Error ? e.message : String(e);
}
