/**
 * The nodes (facts) table: every read the project makes of it (discovery's paged parallel scan,
 * membership's slim scan, one host by id or name) and the membership writes (the reaper marking
 * silent nodes lost, EC2 state changes marking them stopped or terminated). Heartbeats write
 * through nodes-heartbeats.ts. Each membership write is conditional, so it never overrides a
 * heartbeat that landed in between, and the same event applied twice changes nothing.
 */
import {
  GetCommand,
  paginateScan,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { awsErrorName } from '../aws.ts';
import type { NodeItem } from '../runs-table.ts';
import { SCAN_SEGMENTS } from '../large-fleet.ts';

/** The attributes membership decisions need (the scan reads only these, not the facts). */
export interface MemberRecord {
  nodeId: string;
  identity: string;
  lastSeen: number;
  heartbeatSec: number;
  status?: string;
  asg?: string;
  inbox?: string;
}

const MEMBER_FIELDS = ['nodeId', 'identity', 'lastSeen', 'heartbeatSec', 'status', 'asg', 'inbox'] as const;

/** Parallel scan segments by default (Scan's Segment/TotalSegments); a stage may widen Plan's (shared/large-fleet.ts). */
export const DEFAULT_SCAN_SEGMENTS = SCAN_SEGMENTS.standard;

export class NodesStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
    private readonly segments: number = DEFAULT_SCAN_SEGMENTS,
  ) {
    // No segment would read nothing and find no host: refuse rather than plan an empty run.
    if (!Number.isInteger(segments) || segments < 1) {
      throw new RangeError(`scan segments must be a whole number of at least 1, got ${segments}`);
    }
  }

  /** Every registered node, facts and all. */
  async all(): Promise<NodeItem[]> {
    return this.select((node) => node);
  }

  /**
   * What `pick` returns for each node (undefined: left out), page by page over `segments` parallel
   * scans: a page's items are dropped as soon as they are picked, so a fleet whose facts weigh far
   * more than Plan's memory (50,000 hosts × 2–20 KB) is read in one pass holding only what was kept.
   */
  async select<T>(pick: (node: NodeItem) => T | undefined): Promise<T[]> {
    return this.#scan({}, (item) => pick(item as unknown as NodeItem));
  }

  /** Every node, without its facts. */
  async members(): Promise<MemberRecord[]> {
    return this.#scan(
      {
        ProjectionExpression: MEMBER_FIELDS.map((n) => `#${n}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(MEMBER_FIELDS.map((n) => [`#${n}`, n])),
      },
      (item) => item as unknown as MemberRecord,
    );
  }

  /** One node by its id (eventually consistent, as discovery is). */
  async get(nodeId: string): Promise<NodeItem | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: { nodeId } }));
    return out.Item as NodeItem | undefined;
  }

  /** One node's facts alone (a reaction needs only its group), undefined for an unknown node. */
  async factsOf(nodeId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { nodeId }, ProjectionExpression: 'facts' }),
    );
    return out.Item?.facts as Record<string, unknown> | undefined;
  }

  /** How many nodes the table holds, whatever their status (every page counted). */
  async count(): Promise<number> {
    let count = 0;
    for await (const page of paginateScan({ client: this.db }, { TableName: this.table, Select: 'COUNT' })) {
      count += page.Count ?? 0;
    }
    return count;
  }

  /** A host by node id, else by identity. */
  async find(name: string): Promise<NodeItem | undefined> {
    return (await this.get(name)) ?? (await this.select((n) => (n.identity === name ? n : undefined)))[0];
  }

  async #scan<T>(
    input: Omit<ScanCommandInput, 'TableName'>,
    pick: (item: Record<string, unknown>) => T | undefined,
  ): Promise<T[]> {
    const segment = async (Segment: number): Promise<T[]> => {
      const kept: T[] = [];
      const pages = paginateScan(
        { client: this.db },
        { TableName: this.table, Segment, TotalSegments: this.segments, ...input },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const value = pick(item);
          if (value !== undefined) kept.push(value);
        }
      }
      return kept;
    };
    const parts = await Promise.all(Array.from({ length: this.segments }, (_, i) => segment(i)));
    return parts.flat();
  }

  /**
   * Marks a node lost, unless it heartbeated since it was read (`lastSeen` moved) or is no longer
   * active. Returns whether this call marked it.
   */
  async markLost(node: MemberRecord, now: number, reason: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { nodeId: node.nodeId },
          UpdateExpression: 'SET #status = :lost, #statusAt = :now, #statusReason = :why',
          ConditionExpression: '#lastSeen = :seen AND (attribute_not_exists(#status) OR #status = :active)',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#statusAt': 'statusAt',
            '#statusReason': 'statusReason',
            '#lastSeen': 'lastSeen',
          },
          ExpressionAttributeValues: {
            ':lost': 'lost',
            ':active': 'active',
            ':now': now,
            ':why': reason,
            ':seen': node.lastSeen,
          },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * Marks a known node `stopped` or `terminated` as of `at` (the EC2 event's time). A terminated
   * node stays terminated; an unknown instance (another stage's, or never an agent) is left alone.
   * Returns the node as it was, or undefined when nothing changed.
   */
  async markInstanceState(
    nodeId: string,
    state: 'stopped' | 'terminated',
    at: number,
  ): Promise<MemberRecord | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { nodeId },
          UpdateExpression: 'SET #status = :state, #statusAt = :at, #statusReason = :why',
          ConditionExpression:
            'attribute_exists(#nodeId) AND (attribute_not_exists(#status) OR ' +
            '(#status <> :terminated AND #status <> :state))',
          ExpressionAttributeNames: {
            '#nodeId': 'nodeId',
            '#status': 'status',
            '#statusAt': 'statusAt',
            '#statusReason': 'statusReason',
          },
          ExpressionAttributeValues: {
            ':state': state,
            ':terminated': 'terminated',
            ':at': at,
            ':why': `instance ${state}`,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes as MemberRecord | undefined;
    } catch (error: unknown) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return undefined;
      throw error;
    }
  }
}
