/**
 * From configuration to ready-to-start agents: which stack to join (a local stack file, or the
 * stage named in the config), who this host is (EC2 instance id and facts, or the hostname),
 * which key verifies requests, and the settings of each logical agent the process hosts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createKmsClient, createSqsClient } from '#shared/aws.ts';
import {
  AgentParameterError,
  createSsmClient,
  fetchAgentParameter,
  type AgentParameter,
} from '#shared/agent-parameter.ts';
import { RESULT_OUTPUT_BUDGET_BYTES } from '#shared/output-fit.ts';
import { publicKeyFrom } from '#shared/signing.ts';
import { readLocalStackFile, type LocalStackFile } from '#shared/local-stack-file.ts';
import { describeZodError } from '#shared/messages.ts';
import { agentSettings, defaultIdentity, type AgentSettings, type AgentSpec } from './settings.ts';
import {
  AgentConfigError,
  loadAgentConfig,
  missingKeys,
  type ConfigSources,
  type LoadedConfig,
} from './config.ts';
import type { AgentConfig } from './config-schema.ts';
import { localAgentKey } from '#shared/local-principals.ts';
import { DEFAULT_DMI_DIR, detectEc2, ec2Facts, instanceArn, readEc2Identity } from './ec2.ts';
import { jsonLog, type AgentLog } from '../json-log.ts';
import { useStaticUserAgent } from './user-agent.ts';
import { PublicKeyError, publicKeyFromConfig, trustedKmsKeys, type TrustedKey } from './public-key.ts';
import { resolveRunAs, RunAsError, type RunAsUser } from '../execute/run-as.ts';

export const AGENT_VERSION = '0.1.0';

/** What the process itself is told: where to read from, and flags that override the config. */
export interface AgentCommandOptions {
  /** Local mode: the `.drover` directory of a running local stack (`drover agent`, `npm start`). */
  home?: string;
  /** The config file (`--config`); `/etc/drover/agent.yaml` when it exists, outside local mode. */
  config?: string;
  /** Host many logical agents (same as `hosts_file`). */
  hosts?: string;
  /** Every other flag of `CONFIG_KEYS`, by commander property name (`heartbeat`, `facts`, …). */
  [flag: string]: unknown;
}

/** The process's surroundings, replaceable in tests. */
export interface Runtime {
  env: NodeJS.ProcessEnv;
  dmiDir: string;
  passwdPath?: string;
  fetch: typeof fetch;
  write: (line: string) => void;
}

export const defaultRuntime = (): Runtime => ({
  env: process.env,
  dmiDir: DEFAULT_DMI_DIR,
  fetch: globalThis.fetch,
  write: (line) => process.stdout.write(line),
});

const hostsFileSchema = z.array(
  z
    .object({
      identity: z.string().min(1),
      nodeId: z.string().min(1).optional(),
      facts: z.array(z.string()).default([]),
      classes: z.array(z.string()).default([]),
    })
    .strict(),
);

export interface PreparedAgents {
  log: AgentLog;
  sqs: SQSClient;
  stage: string;
  settings: AgentSettings[];
  /** Reads the configuration again and returns each agent's new settings (SIGHUP). */
  reload(): Promise<AgentSettings[]>;
}

/** Loads everything the agents need; throws {@link AgentConfigError} for anything unusable. */
export async function prepareAgents(options: AgentCommandOptions, runtime: Runtime): Promise<PreparedAgents> {
  const stack = options.home !== undefined ? readLocalStackFile(options.home) : undefined;
  const sources: ConfigSources = {
    flags: options,
    env: runtime.env,
    // A developer machine may have an installed agent's config, or be an EC2 instance itself.
    modeDefaults: stack ? { ec2: 'never' } : {},
    readDefaultPath: stack === undefined,
  };
  const loaded = loadAgentConfig(sources);
  const { config } = loaded;
  const log = jsonLog(runtime.write, config.log_level);
  // `--stage` alone: the rest comes from the stage's SSM parameter (read below, once the region is known).
  const fromParameter = !stack && config.stage !== undefined && config.replies_queue_url === undefined;
  if (!stack && !fromParameter) requireStageKeys(config, loaded.path);
  warnOfOutputBudget(config, log);
  const host = await hostIdentity(config, runtime, log);
  const specs = hostSpecs(config, host);
  const region =
    stack?.region ?? config.region ?? host.region ?? runtime.env.AWS_REGION ?? runtime.env.AWS_DEFAULT_REGION;
  if (region === undefined) {
    throw new AgentConfigError(missingKeys(config, ['region'], loaded.path));
  }
  const published = fromParameter
    ? await publishedConfig(config.stage!, region, config.endpoints.ssm)
    : undefined;
  const effective = (c: AgentConfig): AgentConfig => (published ? withPublished(c, published) : c);
  const clientOptions = awsClientOptions(region, stack, specs);
  const sqs = createSqsClient({
    ...clientOptions,
    endpoints: { sqs: stack?.endpoints.sqs ?? config.endpoints.sqs },
  });
  await useStaticUserAgent(sqs, AGENT_VERSION);
  const baseStateDir = stateDirOf(stack, loaded);
  // One agent uses the state directory itself, unless it is the local stack's (shared by all agents).
  const ownStateDir = specs.length === 1 && (stack === undefined || loaded.origins.has('state_dir'));
  const stateDirOfAgent = (spec: AgentSpec) =>
    ownStateDir ? baseStateDir : join(baseStateDir, 'agents', spec.nodeId);
  const keyOf = (current: AgentConfig) => verificationKey(current, stack, baseStateDir, clientOptions, log);

  const settingsFrom = (current: LoadedConfig, keys: TrustedKey[]): AgentSettings[] => {
    const c = effective(current.config);
    const repliesQueueUrl = stack?.repliesQueueUrl ?? c.replies_queue_url!;
    const place = {
      stage: stack?.stage ?? c.stage!,
      repliesQueueUrl,
      ...inboxOwner(host, region, repliesQueueUrl),
      keys,
      baseFacts: host.facts,
      runAs: runAsUser(c, runtime),
      agentVersion: AGENT_VERSION,
    };
    return specs.map((spec) => agentSettings(c, spec, { ...place, stateDir: stateDirOfAgent(spec) }));
  };

  return {
    log,
    sqs,
    stage: stack?.stage ?? config.stage!,
    settings: settingsFrom(loaded, await keyOf(effective(config))),
    reload: async () => {
      const next = loadAgentConfig(sources);
      return settingsFrom(next, await keyOf(effective(next.config)));
    },
  };
}

/** A stage's own agent names its stage, replies queue and key: one line for each that is missing. */
function requireStageKeys(config: AgentConfig, path: string | undefined): void {
  const missing = missingKeys(config, ['stage', 'replies_queue_url'], path);
  if (config.public_key === undefined && config.kms_key_id === undefined) {
    missing.push(
      'config key "public_key": is required unless kms_key_id is set: requests cannot be verified',
    );
  }
  if (missing.length > 0) throw new AgentConfigError(missing);
}

function warnOfOutputBudget(config: AgentConfig, log: AgentLog): void {
  if (config.output_cap_bytes <= RESULT_OUTPUT_BUDGET_BYTES / 2) return;
  log.warn(
    `output_cap_bytes is ${config.output_cap_bytes}, but a result carries at most ${RESULT_OUTPUT_BUDGET_BYTES} bytes of output (stdout and stderr together, as JSON): output beyond that is cut further, head and tail kept`,
    { outputCapBytes: config.output_cap_bytes, resultOutputBudgetBytes: RESULT_OUTPUT_BUDGET_BYTES },
  );
}

/** The options of the process's AWS clients (SQS, and KMS for the key). */
function awsClientOptions(region: string, stack: LocalStackFile | undefined, specs: AgentSpec[]) {
  return {
    region,
    // Locally the key names the principal (one node's session, or a demo fleet): the replies
    // then pass ingest's sender check as an instance's would in AWS (shared/local-principals.ts).
    ...(stack
      ? {
          credentials: {
            ...stack.credentials,
            accessKeyId: localAgentKey(specs.map((spec) => spec.nodeId)),
          },
        }
      : {}),
    // One long poll per agent holds a socket; sends share the rest.
    maxSockets: specs.length + 32,
  };
}

interface HostIdentity {
  identity: string;
  nodeId: string;
  /** On EC2: the instance id (then also the node id). */
  instanceId?: string;
  region?: string;
  facts: Record<string, unknown>;
}

/**
 * On EC2 the node id is the instance id: ingest accepts a reply sent with an instance role only
 * from the instance it names (SQS records the role session, i.e. the instance id, as its sender),
 * so an agent configured with another node id would have every reply refused. Said at start-up.
 */
function ec2NodeId(config: AgentConfig, instanceId: string): string {
  if (config.node_id === undefined || config.node_id === instanceId) return instanceId;
  throw new AgentConfigError([
    `config key "node_id": "${config.node_id}" is not this instance's id (${instanceId}); on EC2 the node id is the instance id, because the control plane accepts replies only from the instance they name and would refuse every reply of this agent: remove node_id (or set ec2: never on a host that is not an instance)`,
  ]);
}

/** The instance id and EC2 facts on EC2 (detected from DMI), the hostname elsewhere. */
async function hostIdentity(config: AgentConfig, runtime: Runtime, log: AgentLog): Promise<HostIdentity> {
  const identity = config.identity ?? defaultIdentity();
  const plain = { identity, nodeId: config.node_id ?? identity, facts: {} };
  if (config.ec2 === 'never' || config.hosts_file !== undefined) return plain;
  const detected = detectEc2(runtime.dmiDir);
  if (config.ec2 === 'auto' && !detected.onEc2) return plain;
  try {
    const ec2 = await readEc2Identity(config.metadata_endpoint, runtime.fetch);
    log.info('running on EC2', { instanceId: ec2.instanceId, evidence: detected.evidence ?? 'ec2: always' });
    return {
      identity: config.identity ?? defaultIdentity(),
      nodeId: ec2NodeId(config, ec2.instanceId),
      instanceId: ec2.instanceId,
      ...(ec2.region !== undefined ? { region: ec2.region } : {}),
      facts: ec2Facts(ec2),
    };
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : String(e);
    if (detected.instanceId !== undefined && config.ec2 === 'auto') {
      log.warn('instance metadata unavailable; using the instance id from DMI, without EC2 facts', {
        reason,
      });
      return {
        identity,
        nodeId: ec2NodeId(config, detected.instanceId),
        instanceId: detected.instanceId,
        facts: { ec2: { instance_id: detected.instanceId } },
      };
    }
    throw new AgentConfigError([`config key "metadata_endpoint": ${reason}`], { cause: e });
  }
}

/** The instance ARN the inbox is tagged with, on EC2 (see `instanceArn`). */
function inboxOwner(host: HostIdentity, region: string, repliesQueueUrl: string): { instanceArn?: string } {
  const arn =
    host.instanceId === undefined ? undefined : instanceArn(host.instanceId, region, repliesQueueUrl);
  return arn === undefined ? {} : { instanceArn: arn };
}

function hostSpecs(config: AgentConfig, host: HostIdentity): AgentSpec[] {
  if (config.hosts_file === undefined) return [{ ...host, facts: [], classes: [] }];
  let parsed: z.ZodSafeParseResult<z.infer<typeof hostsFileSchema>>;
  try {
    parsed = hostsFileSchema.safeParse(JSON.parse(readFileSync(config.hosts_file, 'utf8')));
  } catch (e: unknown) {
    throw new AgentConfigError([
      `config key "hosts_file": ${config.hosts_file}: ${e instanceof Error ? e.message : e}`,
    ]);
  }
  if (!parsed.success) {
    throw new AgentConfigError([
      `config key "hosts_file": ${config.hosts_file}: ${describeZodError(parsed.error)}`,
    ]);
  }
  return parsed.data.map((h) => ({ ...h, nodeId: h.nodeId ?? h.identity }));
}

/** The stage's published agent configuration (`/drover/<stage>/agent` in SSM Parameter Store). */
async function publishedConfig(
  stage: string,
  region: string,
  endpoint: string | undefined,
): Promise<AgentParameter> {
  const ssm = createSsmClient({ region, endpoint });
  try {
    return await fetchAgentParameter(ssm, stage);
  } catch (e: unknown) {
    if (e instanceof AgentParameterError) throw new AgentConfigError([e.message], { cause: e });
    throw e;
  } finally {
    ssm.destroy();
  }
}

/** The file's and flags' settings win; the published ones fill what they leave out. */
function withPublished(config: AgentConfig, published: AgentParameter): AgentConfig {
  const ownKey = config.public_key !== undefined || config.kms_key_id !== undefined;
  return {
    ...config,
    replies_queue_url: config.replies_queue_url ?? published.replies_queue_url,
    ...(ownKey ? {} : { kms_key_id: published.kms_key_id, public_key: published.public_key }),
  };
}

function stateDirOf(stack: LocalStackFile | undefined, loaded: LoadedConfig): string {
  if (stack && !loaded.origins.has('state_dir')) return resolve(stack.stateDir);
  return resolve(loaded.config.state_dir);
}

async function verificationKey(
  config: AgentConfig,
  stack: LocalStackFile | undefined,
  stateDir: string,
  clientOptions: { region: string; credentials?: { accessKeyId: string; secretAccessKey: string } },
  log: AgentLog,
): Promise<TrustedKey[]> {
  if (stack) return [{ publicKey: publicKeyFrom(readFileSync(stack.publicKeyPath, 'utf8')) }];
  try {
    if (config.public_key !== undefined) return [{ publicKey: publicKeyFromConfig(config.public_key) }];
    return await trustedKmsKeys(config.kms_key_id!, {
      stateDir,
      kms: () =>
        createKmsClient({ ...clientOptions, endpoints: { kms: config.endpoints.kms }, maxSockets: 4 }),
      onWarning: (message) => log.warn(message),
    });
  } catch (e: unknown) {
    if (!(e instanceof PublicKeyError)) throw e;
    const key = config.public_key !== undefined ? 'public_key' : 'kms_key_id';
    throw new AgentConfigError([`config key "${key}": ${e.message}`], { cause: e });
  }
}

function runAsUser(config: AgentConfig, runtime: Runtime): RunAsUser | undefined {
  if (config.policy.run_as === undefined) return undefined;
  try {
    return resolveRunAs(config.policy.run_as, { passwdPath: runtime.passwdPath });
  } catch (e: unknown) {
    if (!(e instanceof RunAsError)) throw e;
    throw new AgentConfigError([`config key "policy.run_as": ${e.message}`], { cause: e });
  }
}
