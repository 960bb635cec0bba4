/**
 * The fingerprint of a host's facts and classes, stored beside them in the nodes table so a
 * heartbeat whose facts did not change leaves them alone (shared/stores/nodes-heartbeats.ts).
 * Computed by ingest from the facts the heartbeat carries, never taken from the message: a hash a
 * host claimed could keep stale facts in place. Key order does not matter (agents build facts
 * from files and commands whose key order may vary); class order does (it is the agent's list).
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level, so equal facts give equal text. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Object.fromEntries(entries.map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

/** `sha256:` and the hex SHA-256 of the canonical JSON of `{facts, classes}`. */
export function factsHash(facts: Record<string, unknown>, classes: readonly string[]): string {
  const text = JSON.stringify(canonical({ facts, classes }));
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}
