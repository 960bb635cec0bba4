/**
 * A nodes table that answers Scan as DynamoDB does, for unit tests of discovery's paged reads.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NodeItem } from '#shared/runs-table.ts';

export interface ScanInput {
  TableName: string;
  Segment: number;
  TotalSegments: number;
  ExclusiveStartKey?: { nodeId: string };
}

/**
 * A table that answers Scan as DynamoDB does: items split among segments by key hash, `pageSize`
 * items a page with LastEvaluatedKey until the segment is read. Refuses a Segment out of range.
 */
export function fakeNodesTable(items: readonly NodeItem[], pageSize: number) {
  const scans: ScanInput[] = [];
  const hash = (key: string) => [...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  // A real client (the SDK's paginators require one) whose send answers from `items`.
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  Object.assign(db, {
    send: async (command: { input: ScanInput }) => {
      const input = command.input;
      scans.push(input);
      if (input.Segment < 0 || input.Segment >= input.TotalSegments) {
        throw Object.assign(new Error('Segment out of range'), { name: 'ValidationException' });
      }
      const mine = items.filter((n) => hash(n.nodeId) % input.TotalSegments === input.Segment);
      const start = input.ExclusiveStartKey
        ? mine.findIndex((n) => n.nodeId === input.ExclusiveStartKey!.nodeId) + 1
        : 0;
      const page = mine.slice(start, start + pageSize);
      const more = start + pageSize < mine.length;
      await Promise.resolve();
      return { Items: page, ...(more ? { LastEvaluatedKey: { nodeId: page.at(-1)!.nodeId } } : {}) };
    },
  });
  return { db, scans };
}
