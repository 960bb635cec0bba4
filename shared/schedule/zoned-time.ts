/**
 * Wall-clock time in an IANA time zone, with Intl only (no time zone database of our own): the
 * offset of a zone at an instant, the wall clock at an instant, and the instants a wall-clock time
 * names (none in a spring-forward gap, two in a fall-back hour).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** IANA names (`Europe/Berlin`, `America/Argentina/Buenos_Aires`) and `UTC`; not offsets like `+01:00`. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** Whether `timeZone` is a time zone name this runtime knows (Intl's IANA database). */
export function isKnownTimeZone(timeZone: string): boolean {
  if (!ZONE_NAME.test(timeZone) || timeZone.length > 50) return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time at `instant` in `timeZone`, as milliseconds of a UTC date with those fields. */
export function wallClockAt(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
    new Date(instant).getUTCMilliseconds(),
  );
  return wall;
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds (Berlin in winter: +3,600,000). */
export function offsetAt(instant: number, timeZone: string): number {
  return wallClockAt(instant, timeZone) - instant;
}

/**
 * The instants whose wall clock in `timeZone` reads `wall` (fields of a UTC date), earliest first:
 * none when the time is skipped by a DST change, two when it repeats. Zone transitions are at
 * least a day apart, so the offsets half a day either side are the only candidates.
 */
export function instantsOfWallClock(wall: number, timeZone: string): number[] {
  const offsets = new Set([offsetAt(wall - 43_200_000, timeZone), offsetAt(wall + 43_200_000, timeZone)]);
  const found = new Set<number>();
  for (const offset of offsets) {
    const candidate = wall - offset;
    if (wallClockAt(candidate, timeZone) === wall) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b);
}

/** `2026-03-29 03:00 CEST`-style text of an instant in a zone (for `drover schedule show`). */
export function formatInZone(instant: number, timeZone: string): string {
  const wall = new Date(wallClockAt(instant, timeZone)).toISOString();
  const name =
    // en-GB names European zones (CET, CEST) where en-US writes GMT+1.
    new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'short' })
      .formatToParts(new Date(instant))
      .find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
  return `${wall.slice(0, 10)} ${wall.slice(11, 16)} ${name}`;
}
