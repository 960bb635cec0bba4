/**
 * Discovery source: the nodes (facts) table, scanned in parallel segments and filtered in code,
 * since the filter language is richer than a DynamoDB FilterExpression.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NodeItem } from '#shared/runs-table.ts';

export class NodeDirectory {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
    private readonly segments = 4,
  ) {}

  /** Every registered node; `segments` parallel scans. */
  async all(): Promise<NodeItem[]> {
    const parts = await Promise.all(
      Array.from({ length: this.segments }, (_, segment) => this.#scanSegment(segment)),
    );
    return parts.flat();
  }

  async #scanSegment(segment: number): Promise<NodeItem[]> {
    const items: NodeItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new ScanCommand({
          TableName: this.table,
          Segment: segment,
          TotalSegments: this.segments,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((out.Items ?? []) as NodeItem[]));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
