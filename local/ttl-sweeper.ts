/**
 * DynamoDB's TTL, which dynalite lacks: deletes items whose `expiresAt` (epoch seconds) passed.
 *
 * Paced, like AWS's own background deletion: each step reads one page of the table (at most
 * `pageSize` items evaluated) from where the last step stopped, and starts again at the top
 * once it reaches the end. The stack's one thread never stops for a scan of the whole table
 * (tens of thousands of node items after a few runs over 1,000 hosts, decoded one by one by
 * dynalite), and a pass over the table takes as many steps as it has pages. AWS deletes expired
 * items "typically within two days" (UpdateTimeToLive) and they show up in reads until then, so
 * nothing may depend on a prompt deletion, here either.
 */
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsErrorName } from '#shared/aws.ts';

/** Items evaluated per step and table: ~50 ms of dynalite's time at its speed on this machine. */
export const TTL_PAGE_SIZE = 500;

export class TtlSweeper {
  #cursor: Record<string, unknown> | undefined;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly keyNames: readonly string[],
    private readonly pageSize: number = TTL_PAGE_SIZE,
  ) {}

  /** Sweeps the next page; returns how many items it deleted and whether the pass is done. */
  async step(
    nowSec: number = Math.floor(Date.now() / 1000),
  ): Promise<{ removed: number; passDone: boolean }> {
    const page = await this.db.send(
      new ScanCommand({
        TableName: this.table,
        Limit: this.pageSize,
        ExclusiveStartKey: this.#cursor,
        FilterExpression: 'expiresAt < :now',
        ExpressionAttributeValues: { ':now': nowSec },
        ProjectionExpression: this.keyNames.map((_, i) => `#k${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(this.keyNames.map((k, i) => [`#k${i}`, k])),
      }),
    );
    this.#cursor = page.LastEvaluatedKey;
    let removed = 0;
    for (const item of page.Items ?? []) {
      if (await this.#deleteIfExpired(item, nowSec)) removed++;
    }
    return { removed, passDone: this.#cursor === undefined };
  }

  /** Deletes an item still expired: one written again since the scan (a new TTL) stays, as in AWS. */
  async #deleteIfExpired(key: Record<string, unknown>, nowSec: number): Promise<boolean> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: key,
          ConditionExpression: 'expiresAt < :now',
          ExpressionAttributeValues: { ':now': nowSec },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}

/** One whole pass over `table` (tests, and tools that want the table swept now). */
export async function sweepExpired(
  db: DynamoDBDocumentClient,
  table: string,
  keyNames: readonly string[],
  nowSec: number = Math.floor(Date.now() / 1000),
): Promise<number> {
  const sweeper = new TtlSweeper(db, table, keyNames);
  let removed = 0;
  for (;;) {
    const step = await sweeper.step(nowSec);
    removed += step.removed;
    if (step.passDone) return removed;
  }
}
