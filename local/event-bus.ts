/**
 * The stage's event bus on one machine: answers EventBridge PutEvents, keeps recent events in
 * memory and appends them to a JSON-lines file, like a rule that archives the bus.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';

export interface BusEvent {
  id: string;
  time: string;
  source: string;
  'detail-type': string;
  detail: unknown;
  'event-bus-name': string;
}

export class LocalEventBus {
  readonly recent: BusEvent[] = [];
  readonly #listeners = new Set<(event: BusEvent) => void>();

  constructor(
    private readonly logFile: string,
    private readonly keep = 1_000,
  ) {
    mkdirSync(dirname(logFile), { recursive: true });
  }

  put(entry: {
    Source?: string;
    DetailType?: string;
    Detail?: string;
    EventBusName?: string;
    /** As PutEvents takes it: a Date in process, epoch seconds over the JSON protocol. */
    Time?: Date | number;
  }): string {
    const time =
      entry.Time === undefined
        ? new Date()
        : new Date(typeof entry.Time === 'number' ? entry.Time * 1000 : entry.Time);
    const event: BusEvent = {
      id: randomUUID(),
      time: time.toISOString(),
      source: entry.Source ?? '',
      'detail-type': entry.DetailType ?? '',
      detail: entry.Detail ? (JSON.parse(entry.Detail) as unknown) : {},
      'event-bus-name': entry.EventBusName ?? 'default',
    };
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.shift();
    appendFileSync(this.logFile, JSON.stringify(event) + '\n');
    for (const listener of this.#listeners) listener(event);
    return event.id;
  }

  subscribe(listener: (event: BusEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
