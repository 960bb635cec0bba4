/**
 * DynamoDB's TTL, which dynalite lacks: deletes items whose `expiresAt` (epoch seconds) passed.
 */
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export async function sweepExpired(
  db: DynamoDBDocumentClient,
  table: string,
  keyNames: readonly string[],
  nowSec: number = Math.floor(Date.now() / 1000),
): Promise<number> {
  let removed = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: 'expiresAt < :now',
        ExpressionAttributeValues: { ':now': nowSec },
        ProjectionExpression: keyNames.map((_, i) => `#k${i}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(keyNames.map((k, i) => [`#k${i}`, k])),
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      await db.send(new DeleteCommand({ TableName: table, Key: item }));
      removed++;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return removed;
}
