/**
 * The fleet file's format (fleet.yaml): node groups, and a `__base__` every group inherits. One
 * zod schema per group; the JSON Schema editors validate against is generated from it
 * (`drover fleet schema`, committed as docs/fleet.schema.json).
 */
import { z } from 'zod';
import { GROUP_NAME } from './group-name.ts';

/** The group every group inherits from. */
export const BASE_GROUP = '__base__';

export { GROUP_NAME } from './group-name.ts';

/**
 * A run-list entry as Chef writes them: `recipe[cookbook::recipe@version]`, `role[name]`, or a
 * bare recipe name.
 */
const RUN_LIST_ENTRY = /^(recipe\[[^\][\s]+\]|role\[[^\][\s]+\]|[A-Za-z0-9_.:@-]+)$/;

/** Keys of Packer's amazon builders that carry credentials: Packer reads its own chain instead. */
export const CREDENTIAL_KEYS = [
  'access_key',
  'secret_key',
  'token',
  'session_token',
  'mfa_code',
  'vault_aws_engine',
] as const;

/** A chef run list; a name that does not look like one is almost certainly a typo. */
const runList = z.array(
  z
    .string()
    .regex(RUN_LIST_ENTRY, 'a run-list entry is recipe[cookbook::recipe], role[name] or a recipe name'),
);

/** Chef attributes: any JSON object. */
const attributes = z.record(z.string(), z.unknown());

/** `GROUP:N`: this group bootstraps only once GROUP has at least N hosts in service. */
export const REQUIREMENT = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63}):([1-9][0-9]{0,5})$/;

export const autoscaleSchema = z
  .object({
    /** The Auto Scaling group's name (1–255 characters, as Auto Scaling allows). */
    asg: z.string().min(1).max(255).optional().describe('the Auto Scaling group this node group runs in'),
    node_min: z.number().int().min(0).optional().describe('MinSize of the Auto Scaling group'),
    node_max: z.number().int().min(0).optional().describe('MaxSize of the Auto Scaling group'),
    /** Auto Scaling lifecycle hooks accept a HeartbeatTimeout of 30 to 7200 seconds. */
    timeout: z
      .number()
      .int()
      .min(30)
      .max(7200)
      .optional()
      .describe('lifecycle hook timeout, seconds (30–7200, as Auto Scaling allows)'),
  })
  .strict();
export type Autoscale = z.infer<typeof autoscaleSchema>;

/** What a reaction waits for: a host of the other group joining, lost (silent), or terminated. */
export const REACTION_EVENTS = ['joined', 'lost', 'terminated'] as const;

/** The most a reaction's command may take: it travels in one signed request, as lifecycle commands. */
export const MAX_REACTION_COMMAND_BYTES = 32 * 1024;

export const reactionSchema = z
  .object({
    on: z.enum(REACTION_EVENTS).describe('joined, lost or terminated: what happened to a host of group'),
    group: z
      .string()
      .regex(GROUP_NAME, 'a group name: letters, digits, "_" and "-", at most 64 characters')
      .describe('the group whose hosts are watched'),
    run: z
      .string()
      .min(1)
      .refine((c) => Buffer.byteLength(c) <= MAX_REACTION_COMMAND_BYTES, {
        message: `is longer than ${MAX_REACTION_COMMAND_BYTES} bytes`,
      })
      .describe("the command run on this group's hosts when it happens"),
  })
  .strict();
export type Reaction = z.infer<typeof reactionSchema>;

/** Every key a group may set (all optional: the merged group is checked again after inheritance). */
const groupShape = {
  description: z.string().describe('what the hosts of this group do; the Chef role description'),
  inherits: z
    .string()
    .regex(GROUP_NAME, 'a group name: letters, digits, "_" and "-", at most 64 characters')
    .describe('another group to inherit from, instead of __base__ alone'),
  type: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'a Packer builder type is lowercase letters, digits and "-", e.g. amazon-ebs')
    .describe('Packer builder type, e.g. amazon-ebs'),
  region: z.string().min(1).describe('AWS region, e.g. us-east-1'),
  instance_type: z.string().min(1).describe('EC2 instance type, e.g. m5.large'),
  source_ami: z.string().min(1).describe('the AMI images and instances start from'),
  ssh_username: z.string().min(1).describe('user Packer connects as (default ubuntu)'),
  security_groups: z
    .array(z.string().min(1))
    .describe("the instances' security groups (appended to the base's)"),
  packer: z
    .record(z.string(), z.unknown())
    .describe('further Packer builder settings, as Packer names them (no credentials)'),
  default_attributes: attributes.describe('Chef default attributes (merged one level deep)'),
  override_attributes: attributes.describe('Chef override attributes (merged one level deep)'),
  run_list: runList.describe("Chef run list (appended to the base's)"),
  post_run_list: runList.describe('Chef run list entries that go after every run_list entry'),
  autoscale: z
    .union([z.literal(false), autoscaleSchema])
    .describe('Auto Scaling settings; false: the group is not in an Auto Scaling group'),
  bootstrap: z
    .string()
    .min(1)
    .describe("command that provisions a host of the group (default: chef-client with the group's role)"),
  decommission: z.string().min(1).describe('command run on a host before it leaves the group'),
  requires: z
    .array(z.string().regex(REQUIREMENT, 'a requirement is GROUP:N, e.g. nucleus:1'))
    .describe('GROUP:N barriers: GROUP has at least N hosts in service before bootstrap runs'),
  facts: z
    .record(z.string(), z.unknown())
    .describe('facts every host of the group reports (group: <name> is implied)'),
  reactions: z
    .array(reactionSchema)
    .describe("commands run on this group's hosts when hosts of another group join or leave"),
};

/**
 * Any key may be null: "no value here, not even the inherited one". Null is not a list or a map,
 * so by the merge rules it overrides whatever the base set.
 */
const nullable = <T extends Record<string, z.ZodType>>(shape: T) =>
  Object.fromEntries(
    Object.entries(shape).map(([key, type]) => [
      key,
      // The description goes on the outside, where editors show it.
      type
        .nullable()
        .optional()
        .describe(type.description ?? key),
    ]),
  ) as {
    [K in keyof T]: z.ZodOptional<z.ZodNullable<T[K]>>;
  };

export const groupSchema = z.object(nullable(groupShape)).strict();
export type RawGroup = z.infer<typeof groupSchema>;

const { inherits: _inherits, ...baseShape } = groupShape;
export const baseSchema = z.object(nullable(baseShape)).strict();

/** The names of the keys a group may set, for "did you mean" hints. */
export const GROUP_KEYS: readonly string[] = Object.keys(groupShape);

/**
 * The whole file: `__base__` and groups. A group written with nothing under it (`www:`) is an
 * empty group. Group names are checked by the loader (a JSON Schema pattern cannot also exempt
 * `__base__` and `$schema` readably).
 */
export const fleetFileSchema = z
  .object({
    $schema: z.string().optional().describe('the JSON Schema this file follows, for editors'),
    [BASE_GROUP]: baseSchema.nullable().optional().describe('settings every group inherits'),
  })
  .catchall(groupSchema.nullable())
  .describe('drover fleet file: node groups, each inheriting __base__ (docs/fleet.md)');
export type FleetFileInput = z.infer<typeof fleetFileSchema>;

/** The JSON Schema of the fleet file, draft-07 (what editors' YAML and JSON support reads best). */
export function fleetJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(fleetFileSchema, { target: 'draft-07', io: 'input' }),
    title: 'drover fleet file',
  };
}
