/**
 * `drover events`: the stage's timeline from the event log, one line per event, oldest first,
 * and its follow mode (poll the log, print what is new).
 */
import { EventLog, type LoggedEvent } from '#shared/event-log.ts';
import { EVENT_TYPES } from '#shared/drover-events.ts';
import { CliError } from './errors.ts';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** The log keeps 30 days (shared/event-log.ts); asking for more finds nothing more. */
const MAX_SINCE_MS = 31 * 86_400_000;

/** `--since`: a duration back from now (`90s`, `15m`, `1h`, `7d`) or an ISO 8601 time. */
export function parseSince(value: string, now: number): number {
  const text = value.trim();
  const match = /^(\d+)([smhd])$/.exec(text);
  let since: number;
  if (match) {
    since = now - Number(match[1]) * UNITS[match[2]!]!;
  } else if (/^\d{4}-\d{2}-\d{2}/.test(text) && Number.isFinite(Date.parse(text))) {
    since = Date.parse(text);
  } else {
    throw new CliError(
      `--since must be a duration like 90s, 15m, 1h or 7d, or a time like 2026-12-01T09:00Z, got "${value}"`,
    );
  }
  return Math.max(since, now - MAX_SINCE_MS);
}

/** `--type`: an event type as documented (case and spaces forgiven: `node-lost`, `node lost`). */
export function parseEventType(value: string): string {
  const wanted = value
    .trim()
    .toLowerCase()
    .replace(/[-_\s]+/g, ' ');
  const found = EVENT_TYPES.find((type) => type.toLowerCase() === wanted);
  if (!found) {
    throw new CliError(`--type "${value}" is not an event type; one of: ${EVENT_TYPES.join(', ')}`);
  }
  return found;
}

export interface TimelineFilter {
  types?: readonly string[];
  /** Node ids or identities. */
  nodes?: readonly string[];
}

export function keepEvent(event: LoggedEvent, filter: TimelineFilter): boolean {
  if (filter.types?.length && !filter.types.includes(event.type)) return false;
  if (filter.nodes?.length) {
    return filter.nodes.some((name) => name === event.nodeId || name === event.identity);
  }
  return true;
}

/** Control characters (a host names itself) shown as `\xNN`, never sent to the terminal. */
const visible = (text: string): string =>
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

const SHOWN_ELSEWHERE = new Set(['at', 'nodeId', 'identity', 'runId', 'facts', 'summary']);

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** One line: time, type, what it is about, then the detail's other scalar fields. */
export function eventLine(event: LoggedEvent): string {
  const subject =
    event.identity && event.nodeId && event.identity !== event.nodeId
      ? `${event.identity} (${event.nodeId})`
      : (event.identity ?? event.nodeId ?? event.runId ?? '-');
  const extras = Object.entries(event.detail)
    .filter(([key]) => !SHOWN_ELSEWHERE.has(key))
    .map(([key, value]) => [key, scalarText(value)] as const)
    .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key}=${/\s/.test(value) ? JSON.stringify(value) : value}`);
  if (event.runId && subject !== event.runId) extras.unshift(`run=${event.runId}`);
  const time = new Date(event.at).toISOString().replace('T', ' ').replace('Z', '');
  return visible([time, event.type.padEnd(21), subject, ...extras].join('  '));
}

/** The JSON form of an event (`--json`, `--jsonl`): its log item without the table's keys. */
export function eventJson(event: LoggedEvent): Record<string, unknown> {
  return {
    id: event.id,
    time: new Date(event.at).toISOString(),
    type: event.type,
    source: event.source,
    nodeId: event.nodeId,
    identity: event.identity,
    runId: event.runId,
    detail: event.detail,
  };
}

/**
 * Follows the log: every `intervalMs`, prints what landed since the last event printed. Events
 * are stamped by their emitter, so one may land a little after a later-stamped one: each poll
 * looks `lagMs` back and skips the ids already printed.
 */
export async function followLog(
  log: EventLog,
  since: number,
  options: {
    filter: TimelineFilter;
    print: (event: LoggedEvent) => void;
    stopped: () => boolean;
    intervalMs?: number;
    lagMs?: number;
    now?: () => number;
  },
): Promise<void> {
  const now = options.now ?? Date.now;
  const lagMs = options.lagMs ?? 30_000;
  const printed = new Map<string, number>();
  let from = since;
  while (!options.stopped()) {
    const until = now() + 60_000;
    for (const event of await log.between(from, until)) {
      if (printed.has(event.id)) continue;
      printed.set(event.id, event.at);
      if (keepEvent(event, options.filter)) options.print(event);
    }
    from = Math.max(since, now() - lagMs);
    for (const [id, at] of printed) if (at < from) printed.delete(id);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1_000));
  }
}
