/**
 * One run at a time per schedule: Plan takes the schedule's lock before it writes a run (a fire
 * that finds it held is skipped), Finish hands it back. The lock is an item of the runs table
 * (`schedule#<name>` / `lock`), taken and given back by conditional UpdateItem only, so two fires
 * racing each other, a Plan retried by Step Functions, or a Finish run twice, all stay correct:
 *
 * - taken when free, when held by this very run (Plan retried), or when its `until` has passed
 *   (a run that died without Finish, e.g. an execution stopped from the console, cannot hold a
 *   schedule forever: `until` is the longest the run could take, from its batches and timeouts);
 * - given back only by its holder.
 *
 * This works the same in AWS and locally: it is what Plan and Finish do, not what the scheduler does.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsErrorName } from '../aws.ts';

export const scheduleLockKey = (schedule: string) => ({ runId: `schedule#${schedule}`, sk: 'lock' });

export interface ScheduleLockItem {
  runId: string;
  sk: 'lock';
  schedule: string;
  holder?: string;
  until?: number;
  expiresAt: number;
}

/** How long a lock item stays in the table after its last use (DynamoDB TTL, seconds). */
const LOCK_RETENTION_SEC = 90 * 86_400;

export class ScheduleLock {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Takes the lock for `runId` until `until` (ms); false when another run holds it. */
  async acquire(schedule: string, runId: string, now: number, until: number): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: scheduleLockKey(schedule),
          UpdateExpression: 'SET holder = :me, #until = :until, schedule = :schedule, expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(holder) OR holder = :me OR #until < :now',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: {
            ':me': runId,
            ':until': until,
            ':now': now,
            ':schedule': schedule,
            ':expires': Math.floor(until / 1000) + LOCK_RETENTION_SEC,
          },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /** The run holding the schedule's lock, if any. */
  async holder(schedule: string): Promise<string | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: scheduleLockKey(schedule), ConsistentRead: true }),
    );
    return (out.Item as ScheduleLockItem | undefined)?.holder;
  }

  /** Gives the lock back if `runId` holds it; a no-op otherwise (a skipped run, a second Finish). */
  async release(schedule: string, runId: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: scheduleLockKey(schedule),
          UpdateExpression: 'REMOVE holder, #until',
          ConditionExpression: 'holder = :me',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':me': runId },
        }),
      );
    } catch (error: unknown) {
      if (awsErrorName(error) !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
