/**
 * Per-group lifecycle configuration: what the control plane runs on a host of an Auto Scaling
 * group when it launches (bootstrap) and before it terminates (decommission), and which other
 * group must be in service first. Written by `drover lifecycle set` (and the fleet file), read by
 * the lifecycle state machine. One item per group in the stage's lifecycle table: key `asg` (the
 * group's name) and `sk` = `config` (the table's other items are the lifecycle flow's waits).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  paginateScan,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { CONFIG_SK, lifecycleKeys } from './lifecycle-table.ts';

/**
 * The most a bootstrap or decommission command may take: it travels in a signed request that must
 * fit one SQS message (256 KiB) with its signature and target list.
 */
export const MAX_LIFECYCLE_COMMAND_BYTES = 32 * 1024;
/** Auto Scaling keeps an instance waiting at most 100 × the hook's heartbeat timeout, and 48 h. */
export const MAX_LIFECYCLE_TIMEOUT_SEC = 48 * 3600;
export const DEFAULT_LIFECYCLE_TIMEOUT_SEC = 900;

/** Auto Scaling group names: 1 to 255 characters, no control characters but tab and newlines. */
// eslint-disable-next-line no-control-regex -- the pattern is about control characters
const GROUP_NAME = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f]{1,255}$/;

const command = z
  .string()
  .min(1, 'is empty')
  .refine((c) => Buffer.byteLength(c) <= MAX_LIFECYCLE_COMMAND_BYTES, {
    message: `is longer than ${MAX_LIFECYCLE_COMMAND_BYTES} bytes (a lifecycle command travels in one signed request)`,
  });

export const groupNameSchema = z.string().regex(GROUP_NAME, 'is not an Auto Scaling group name');

export const lifecycleConfigSchema = z
  .object({
    /** The Auto Scaling group's name. */
    asg: groupNameSchema,
    bootstrap: command.optional(),
    decommission: command.optional(),
    /** Barrier: at least `count` hosts of `group` in service before this group's bootstrap runs. */
    requires: z
      .object({ group: groupNameSchema, count: z.number().int().min(1).max(10_000) })
      .strict()
      .optional(),
    /** Seconds each lifecycle action may take in all: join, barrier and command. */
    timeoutSec: z
      .number()
      .int()
      .min(30)
      .max(MAX_LIFECYCLE_TIMEOUT_SEC)
      .default(DEFAULT_LIFECYCLE_TIMEOUT_SEC),
    updatedAt: z.number().int(),
    updatedBy: z.string(),
  })
  .strict()
  .refine((c) => c.requires?.group !== c.asg, {
    message: 'a group cannot require itself',
    path: ['requires'],
  });
export type LifecycleConfig = z.infer<typeof lifecycleConfigSchema>;
export type LifecycleConfigInput = z.input<typeof lifecycleConfigSchema>;

export class InvalidLifecycleConfig extends Error {
  override name = 'InvalidLifecycleConfig';
}

/** Parses `GROUP:N` (`--requires zookeeper:3`). */
export function parseRequirement(text: string): { group: string; count: number } {
  const at = text.lastIndexOf(':');
  const group = at > 0 ? text.slice(0, at) : '';
  const count = Number(text.slice(at + 1));
  if (at <= 0 || !/^\d+$/.test(text.slice(at + 1)) || count < 1) {
    throw new InvalidLifecycleConfig(
      `requires must be GROUP:N with N at least 1, e.g. zookeeper:3; got "${text}"`,
    );
  }
  return { group, count };
}

/** Validates a configuration; the error names each field that is wrong. */
export function validateLifecycleConfig(input: unknown): LifecycleConfig {
  const parsed = lifecycleConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'configuration'} ${i.message}`);
  throw new InvalidLifecycleConfig(`invalid lifecycle configuration: ${problems.join('; ')}`);
}

/** Where configurations live; the CLI, the fleet file and the state machine use this interface. */
export interface LifecycleConfigStore {
  get(asg: string): Promise<LifecycleConfig | undefined>;
  list(): Promise<LifecycleConfig[]>;
  put(config: LifecycleConfig): Promise<void>;
  /** Returns false when there was nothing to remove. */
  remove(asg: string): Promise<boolean>;
}

const withoutKeys = (item: Record<string, unknown>): Record<string, unknown> => {
  const { sk: _sk, ...config } = item;
  return config;
};

export class DynamoLifecycleConfigStore implements LifecycleConfigStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  async get(asg: string): Promise<LifecycleConfig | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: lifecycleKeys.config(asg) }));
    return out.Item ? validateLifecycleConfig(withoutKeys(out.Item)) : undefined;
  }

  async list(): Promise<LifecycleConfig[]> {
    const items: LifecycleConfig[] = [];
    const pages = paginateScan(
      { client: this.db },
      {
        TableName: this.table,
        FilterExpression: 'sk = :config',
        ExpressionAttributeValues: { ':config': CONFIG_SK },
      },
    );
    for await (const page of pages) {
      items.push(...(page.Items ?? []).map((item) => validateLifecycleConfig(withoutKeys(item))));
    }
    return items.sort((a, b) => a.asg.localeCompare(b.asg));
  }

  async put(config: LifecycleConfig): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { ...validateLifecycleConfig(config), sk: CONFIG_SK } }),
    );
  }

  async remove(asg: string): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: lifecycleKeys.config(asg),
          ConditionExpression: 'attribute_exists(asg)',
        }),
      );
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
