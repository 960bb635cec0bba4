/**
 * DynamoDB's TTL, which dynalite lacks: deletes items whose `expiresAt` (epoch seconds) passed.
 */
import { DeleteCommand, paginateScan, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export async function sweepExpired(
  db: DynamoDBDocumentClient,
  table: string,
  keyNames: readonly string[],
  nowSec: number = Math.floor(Date.now() / 1000),
): Promise<number> {
  let removed = 0;
  const pages = paginateScan(
    { client: db },
    {
      TableName: table,
      FilterExpression: 'expiresAt < :now',
      ExpressionAttributeValues: { ':now': nowSec },
      ProjectionExpression: keyNames.map((_, i) => `#k${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(keyNames.map((k, i) => [`#k${i}`, k])),
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      await db.send(new DeleteCommand({ TableName: table, Key: item }));
      removed++;
    }
  }
  return removed;
}
