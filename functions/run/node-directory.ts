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
    return this.select((node) => node);
  }

  /**
   * What `pick` returns for each node (undefined: left out), page by page: a page's items are
   * dropped as soon as they are picked, so a fleet whose facts weigh far more than Plan's memory
   * (50,000 hosts × 2–20 KB) is read in one pass holding only what was kept.
   */
  async select<T>(pick: (node: NodeItem) => T | undefined): Promise<T[]> {
    const parts = await Promise.all(
      Array.from({ length: this.segments }, (_, segment) => this.#scanSegment(segment, pick)),
    );
    return parts.flat();
  }

  async #scanSegment<T>(segment: number, pick: (node: NodeItem) => T | undefined): Promise<T[]> {
    const items: T[] = [];
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
      for (const node of (out.Items ?? []) as NodeItem[]) {
        const kept = pick(node);
        if (kept !== undefined) items.push(kept);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
