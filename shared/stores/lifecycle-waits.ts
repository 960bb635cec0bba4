/**
 * The task tokens of lifecycle steps waiting on something that happens elsewhere: an instance's
 * first heartbeat (ingest releases it) and a run's end (the Run Completed rule releases it). Each
 * lives in the lifecycle table under its own key; claiming one deletes it, so exactly one caller
 * releases a wait however many race for it.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lifecycleKeys, type LifecycleKey } from './lifecycle-table.ts';

/** Key of the wait for `instanceId` of group `asg` to join. */
export const joinKey = lifecycleKeys.join;
/** Key of the wait for run `runId` to end (the run id alone is unique). */
export const runKey = lifecycleKeys.runWait;

export class LifecycleWaits {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /** Stores (or replaces) a wait's token; it expires with the lifecycle action. */
  async register(key: LifecycleKey, token: string, expiresAtMs: number): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...key, token, expiresAt: Math.ceil(expiresAtMs / 1000) },
      }),
    );
  }

  /** Takes the wait's token if it is there; undefined when there is none or another caller took it. */
  async claim(key: LifecycleKey): Promise<string | undefined> {
    const out = await this.db.send(
      new DeleteCommand({ TableName: this.table, Key: key, ReturnValues: 'ALL_OLD' }),
    );
    const token = out.Attributes?.token;
    return typeof token === 'string' ? token : undefined;
  }
}
