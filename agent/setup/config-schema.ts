/**
 * Every setting of the agent, in one place: the schema of `/etc/drover/agent.yaml` (with its
 * defaults and limits) and the table that gives each key its environment variable and flag. The
 * loader (`config.ts`), the standalone command line (`agent/standalone-cli.ts`) and docs/agent.md all follow
 * this table, so a key cannot exist in one and be missing from another.
 */
import { z } from 'zod';
import { stageNameProblem } from '#shared/stage-config.ts';
import { MAX_REQUEST_LIFETIME_SEC, MIN_DEDUPE_HORIZON_SEC } from '#shared/request-expiry.ts';
import { DEFAULT_OUTPUT_CAP_BYTES } from '../execute/executor.ts';
import { compilePattern } from '../receive/policy.ts';

export const DEFAULT_CONFIG_PATH = '/etc/drover/agent.yaml';
export const DEFAULT_STATE_DIR = '/var/lib/drover';
/** The instance metadata service; only contacted on EC2 (or with `ec2: always`). */
export const DEFAULT_METADATA_ENDPOINT = 'http://169.254.169.254';
export const DEFAULT_COMMAND_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Environment variables of the agent's settings start with this. */
export const ENV_PREFIX = 'DROVER_AGENT_';
/** The config file path itself, when not given with `--config`. */
export const CONFIG_PATH_ENV = 'DROVER_AGENT_CONFIG';

const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const seconds = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
const text = z.string({ error: 'must be a string' }).min(1, 'must not be empty');
const url = text.refine((value) => URL.canParse(value), 'must be a URL, e.g. http://127.0.0.1:9324');
const list = z.array(text, { error: 'must be a list of strings' });
const MAPPING = { error: 'must be a mapping of settings' };

const pattern = text.superRefine((value, ctx) => {
  try {
    compilePattern(value);
  } catch (e: unknown) {
    ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
  }
});

const factsSchema = z
  .object(
    {
      files: list.default([]),
      class_files: list.default([]),
      command: text.optional(),
      refresh_sec: int(10, 86_400).default(300),
    },
    MAPPING,
  )
  .strict();

const policySchema = z
  .object(
    {
      default: z.enum(['allow', 'deny'], { error: 'must be "allow" or "deny"' }).default('allow'),
      allow: z.array(pattern, { error: 'must be a list of patterns' }).default([]),
      deny: z.array(pattern, { error: 'must be a list of patterns' }).default([]),
      shell: z.boolean({ error: 'must be true or false' }).default(true),
      run_as: text.optional(),
    },
    MAPPING,
  )
  .strict();

export const agentConfigSchema = z
  .object({
    stage: text
      .superRefine((stage, ctx) => {
        const problem = stageNameProblem(stage);
        if (problem) ctx.addIssue({ code: 'custom', message: `must be a stage name: ${problem}` });
      })
      .optional(),
    region: text.optional(),
    replies_queue_url: url.optional(),
    identity: text.optional(),
    node_id: text.optional(),
    public_key: text.optional(),
    kms_key_id: text.optional(),
    endpoints: z
      .object({ sqs: url.optional(), kms: url.optional(), ssm: url.optional() }, MAPPING)
      .strict()
      .default({}),
    ec2: z.enum(['auto', 'always', 'never'], { error: 'must be auto, always or never' }).default('auto'),
    metadata_endpoint: url.default(DEFAULT_METADATA_ENDPOINT),
    state_dir: text.default(DEFAULT_STATE_DIR),
    audit_log: text.optional(),
    log_level: z
      .enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })
      .default('info'),
    heartbeat_sec: int(1, 86_400).default(300),
    poll_wait_sec: int(1, 20).default(20),
    concurrency: int(1, 256).default(4),
    queue_limit: int(0, 100_000).default(100),
    output_cap_bytes: int(1024, 16 * 1024 * 1024).default(DEFAULT_OUTPUT_CAP_BYTES),
    kill_grace_sec: seconds(0, 600).default(2),
    // At most half the shortest discovery timeout (1 s), so a delayed ack never misses it.
    ack_delay_sec: seconds(0, 0.5).default(0.25),
    shutdown_grace_sec: seconds(0, 3_600).default(30),
    command_path: text.default(DEFAULT_COMMAND_PATH),
    facts: factsSchema.default(factsSchema.parse({})),
    policy: policySchema.default(policySchema.parse({})),
    dedupe: z
      .object(
        {
          max_entries: int(100, 10_000_000).default(10_000),
          max_age_sec: z
            .number({ error: 'must be a number' })
            .int('must be a whole number')
            .max(31_536_000, 'must be at most 31536000')
            .min(
              MIN_DEDUPE_HORIZON_SEC,
              `must be at least ${MIN_DEDUPE_HORIZON_SEC}: a request can be delivered for up to ` +
                `${MAX_REQUEST_LIFETIME_SEC} s (the longest discovery timeout + 1 s), and an agent that ` +
                `forgot it sooner could run a redelivered copy`,
            )
            .default(604_800),
        },
        MAPPING,
      )
      .strict()
      .default({ max_entries: 10_000, max_age_sec: 604_800 }),
    hosts_file: text.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.policy.default === 'allow' && config.policy.allow.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['policy', 'allow'],
        message:
          'has no effect while policy.default is "allow"; set policy.default to "deny" to run only these',
      });
    }
    if (config.public_key !== undefined && config.kms_key_id !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['kms_key_id'],
        message: 'give either public_key or kms_key_id, not both',
      });
    }
  });

export type AgentConfig = z.infer<typeof agentConfigSchema>;

export type KeyKind = 'string' | 'number' | 'boolean' | 'list';

/** One setting: its dotted key in the file, its flag, and how an environment value is read. */
export interface ConfigKey {
  key: string;
  kind: KeyKind;
  /** The flag as the standalone command line declares it (`--heartbeat <seconds>`). */
  flag: string;
  /** The property commander gives that flag (`heartbeat`). */
  option: string;
  /** Default, as docs show it. */
  default: string;
  description: string;
}

const key = (
  key: string,
  kind: KeyKind,
  flag: string,
  defaultText: string,
  description: string,
): ConfigKey => ({
  key,
  kind,
  flag,
  option: camelCase(flag.split(' ')[0]!.replace(/^--/, '')),
  default: defaultText,
  description,
});

/** Every key of agent.yaml, in the order docs/agent.md lists them. */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  key('stage', 'string', '--stage <name>', '(required)', 'the fleet (stage) this host belongs to'),
  key('region', 'string', '--region <region>', 'EC2 region, else AWS_REGION', 'AWS region of the stage'),
  key('replies_queue_url', 'string', '--replies-queue-url <url>', '(required)', "the stage's replies queue"),
  key('identity', 'string', '--identity <name>', 'hostname', 'name shown in output and matched by -I'),
  key(
    'node_id',
    'string',
    '--node-id <id>',
    'instance id on EC2, else identity',
    'key in the nodes table, inbox name',
  ),
  key(
    'public_key',
    'string',
    '--public-key <pem|file>',
    '-',
    'PEM text or file (PEM or DER) of the signing key',
  ),
  key(
    'kms_key_id',
    'string',
    '--kms-key-id <id>',
    '-',
    'the signing key ARN (output SigningKeyArn; pinned, no alias; two, comma-separated, while rotating)',
  ),
  key('endpoints.sqs', 'string', '--sqs-endpoint <url>', "the SDK's", 'SQS endpoint override'),
  key('endpoints.kms', 'string', '--kms-endpoint <url>', "the SDK's", 'KMS endpoint override'),
  key(
    'endpoints.ssm',
    'string',
    '--ssm-endpoint <url>',
    "the SDK's",
    'SSM endpoint override (the published configuration)',
  ),
  key('ec2', 'string', '--ec2 <mode>', 'auto', 'auto (detect from DMI), always or never'),
  key(
    'metadata_endpoint',
    'string',
    '--metadata-endpoint <url>',
    'the EC2 metadata service',
    'IMDSv2 base URL',
  ),
  key('state_dir', 'string', '--state-dir <dir>', DEFAULT_STATE_DIR, 'dedupe store, audit log, key cache'),
  key('audit_log', 'string', '--audit-log <file>', '<state_dir>/audit.jsonl', 'audit log (JSON lines)'),
  key('log_level', 'string', '--log-level <level>', 'info', 'debug, info, warn or error'),
  key('heartbeat_sec', 'number', '--heartbeat <seconds>', '300', 'heartbeat interval'),
  key('poll_wait_sec', 'number', '--poll-wait <seconds>', '20', 'long-poll wait (1-20)'),
  key('concurrency', 'number', '--concurrency <n>', '4', 'commands run at once'),
  key('queue_limit', 'number', '--queue-limit <n>', '100', 'requests waiting for a slot; more are rejected'),
  key('output_cap_bytes', 'number', '--output-cap <bytes>', '65536', 'bytes kept per stream (head and tail)'),
  key('kill_grace_sec', 'number', '--kill-grace <seconds>', '2', 'TERM to KILL delay on timeout or cancel'),
  key(
    'ack_delay_sec',
    'number',
    '--ack-delay <seconds>',
    '0.25',
    'a command done this soon after it starts: its result alone (0-0.5)',
  ),
  key(
    'shutdown_grace_sec',
    'number',
    '--shutdown-grace <seconds>',
    '30',
    'SIGTERM: wait this long for commands',
  ),
  key('command_path', 'string', '--command-path <path>', DEFAULT_COMMAND_PATH, 'PATH given to commands'),
  key('facts.files', 'list', '--facts <file>', '[]', 'YAML/JSON fact files (facter output included)'),
  key('facts.class_files', 'list', '--classes <file>', '[]', 'word-list files of classes (classes.txt)'),
  key('facts.command', 'string', '--facts-command <command>', '-', 'command printing YAML/JSON facts'),
  key('facts.refresh_sec', 'number', '--facts-refresh <seconds>', '300', 'facts reload interval'),
  key('policy.default', 'string', '--policy-default <allow|deny>', 'allow', 'commands matching no pattern'),
  key('policy.allow', 'list', '--allow <pattern>', '[]', 'commands allowed (with policy.default: deny)'),
  key('policy.deny', 'list', '--deny <pattern>', '[]', 'commands refused, whatever else says'),
  key('policy.shell', 'boolean', '--shell', 'true', 'allow shell strings (false: argv requests only)'),
  key('policy.run_as', 'string', '--run-as <user>', '-', 'run commands as this user (agent must be root)'),
  key('dedupe.max_entries', 'number', '--dedupe-max-entries <n>', '10000', 'requests remembered'),
  key('dedupe.max_age_sec', 'number', '--dedupe-max-age <seconds>', '604800', 'how long they are remembered'),
  key('hosts_file', 'string', '--hosts <file>', '-', 'host many logical agents: JSON list of hosts'),
];

/** `DROVER_AGENT_POLICY_ALLOW` for `policy.allow`. */
export const envName = (configKey: string): string =>
  ENV_PREFIX + configKey.toUpperCase().replace(/\./g, '_');

function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}
