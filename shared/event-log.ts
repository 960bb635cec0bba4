/**
 * The stage's durable event log (the events table): one item per event the control plane saw on
 * its bus, partitioned by UTC day and sorted by when the event happened, so a timeline since a
 * time is a few Queries. Written by the recordEvent function, read by `drover events`.
 */
import { PutCommand, paginateQuery, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BusEvent } from './drover-events.ts';

/** How long events are kept (the table's TTL). */
export const EVENT_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

export interface LoggedEvent {
  /** UTC day of `at`, `YYYY-MM-DD`: the partition key. */
  day: string;
  /** `<at, 15 digits>#<event id>`: sorts by time; the id makes a redelivered event the same item. */
  sk: string;
  id: string;
  at: number;
  type: string;
  source: string;
  detail: Record<string, unknown>;
  /** The node the event is about, when it is about one (for `--node`). */
  nodeId?: string;
  identity?: string;
  runId?: string;
  expiresAt: number;
}

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const sortKey = (at: number, id: string): string => `${String(at).padStart(15, '0')}#${id}`;
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** The log item of a bus event: `detail.at` when the emitter gave one, else the event's time. */
export function loggedEventOf(event: BusEvent): LoggedEvent {
  const at =
    typeof event.detail.at === 'number' && Number.isFinite(event.detail.at)
      ? Math.trunc(event.detail.at)
      : Date.parse(event.time);
  if (!Number.isFinite(at)) throw new RangeError(`event ${event.id} has no usable time: "${event.time}"`);
  return {
    day: dayOf(at),
    sk: sortKey(at, event.id),
    id: event.id,
    at,
    type: event['detail-type'],
    source: event.source,
    detail: event.detail,
    nodeId: text(event.detail.nodeId),
    identity: text(event.detail.identity),
    runId: text(event.detail.runId),
    expiresAt: Math.floor(at / 1000) + EVENT_RETENTION_DAYS * 86_400,
  };
}

export class EventLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /** Writes one event; the same event delivered twice writes the same item. */
  async append(event: LoggedEvent): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: event }));
  }

  /**
   * Events with `since <= at <= until`, oldest first; `after` (a sort key) skips what a follower
   * has already printed.
   */
  async between(since: number, until: number, after?: string): Promise<LoggedEvent[]> {
    const events: LoggedEvent[] = [];
    for (let day = Math.floor(since / DAY_MS) * DAY_MS; day <= until; day += DAY_MS) {
      const from = after && after > sortKey(since, '') ? after : sortKey(since, '');
      const pages = paginateQuery(
        { client: this.db },
        {
          TableName: this.table,
          KeyConditionExpression: '#day = :day AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#day': 'day', '#sk': 'sk' },
          ExpressionAttributeValues: { ':day': dayOf(day), ':from': from, ':to': sortKey(until, '~') },
        },
      );
      for await (const page of pages) {
        for (const item of (page.Items ?? []) as LoggedEvent[]) if (item.sk !== after) events.push(item);
      }
    }
    return events;
  }
}
