/**
 * A command's output has to fit where its result goes: one SQS message (256 KiB, the limit every
 * queue had until 2025 and the one drover keeps to) and one DynamoDB item (400 KB). The agent
 * keeps `output_cap_bytes` of each stream (head and tail), but a large cap, or output that JSON
 * has to escape (a control character takes six bytes), can still make a result too large to send
 * or to store. The streams are then cut further, head and tail kept, with the omission marked in
 * the text and counted, so a result always arrives and is always recorded.
 *
 * No runtime imports: the command launcher loads this (through the executor) and stays small.
 */
import type { CapturedStream } from './messages.ts';
import { sqsJson } from './sqs-json.ts';

/**
 * The most stdout and stderr of one result may take together, as JSON strings (UTF-8 bytes,
 * escapes included). The rest of a result reply (ids, times, an error line) is far below the
 * 16 KiB left of an SQS message, and the stored result far below DynamoDB's item limit.
 */
export const RESULT_OUTPUT_BUDGET_BYTES = 240 * 1024;

/** A captured stream before it is rendered: what was kept of its beginning and of its end. */
export interface StreamParts {
  head: string;
  tail: string;
  /** Bytes the command wrote between `head` and `tail` that were not kept. */
  omitted: number;
  /** Bytes the command wrote to the stream in all. */
  bytes: number;
  /** Already cut before (a stored result's text): stays flagged even when nothing more is cut. */
  truncated?: boolean;
}

/** The stream as reported: whole when nothing was omitted, head + omission marker + tail otherwise. */
export function renderStream(parts: StreamParts): CapturedStream {
  if (parts.omitted === 0) {
    return { text: parts.head + parts.tail, bytes: parts.bytes, truncated: parts.truncated === true };
  }
  return {
    text: parts.head + omissionMarker(parts.omitted) + parts.tail,
    bytes: parts.bytes,
    truncated: true,
  };
}

/**
 * Renders both streams so that their texts take at most `budget` bytes as JSON. Each stream may
 * have half; what one does not need goes to the other. Within a stream, half of its share goes
 * to the head and half to the tail, likewise.
 */
export function fitStreams(
  stdout: StreamParts,
  stderr: StreamParts,
  budget: number,
): { stdout: CapturedStream; stderr: CapturedStream } {
  const out = renderStream(stdout);
  const err = renderStream(stderr);
  if (!mayExceed(out.text.length + err.text.length, budget)) return { stdout: out, stderr: err };
  const outSize = jsonSize(out.text);
  const errSize = jsonSize(err.text);
  if (outSize + errSize <= budget) return { stdout: out, stderr: err };
  const half = Math.floor(budget / 2);
  const [outShare, errShare] =
    outSize <= half
      ? [outSize, budget - outSize]
      : errSize <= half
        ? [budget - errSize, errSize]
        : [half, budget - half];
  return { stdout: cut(stdout, outSize, outShare), stderr: cut(stderr, errSize, errShare) };
}

/**
 * For streams already rendered (a result as received): unchanged when they fit `budget`, cut to
 * fit otherwise (the middle of a text goes, and with it any marker already there: the new marker
 * counts only what this cut dropped; `bytes` still says how much the command wrote).
 */
export function fitCapturedStreams(
  stdout: CapturedStream,
  stderr: CapturedStream,
  budget: number,
): { stdout: CapturedStream; stderr: CapturedStream } {
  if (!mayExceed(stdout.text.length + stderr.text.length, budget)) return { stdout, stderr };
  return fitStreams(asParts(stdout), asParts(stderr), budget);
}

/** Bytes of `text` as a JSON string in an SQS body (UTF-8, escapes included), without the quotes. */
export function jsonSize(text: string): number {
  return Buffer.byteLength(sqsJson(text)) - 2;
}

function omissionMarker(omitted: number): string {
  return `\n…[${omitted} bytes omitted]…\n`;
}

/** False when `chars` UTF-16 units surely fit (none takes more than six bytes as JSON). */
function mayExceed(chars: number, budget: number): boolean {
  return chars * 6 > budget;
}

/** `stream` rendered within `share` bytes (its rendered size is `size`). */
function cut(stream: StreamParts, size: number, share: number): CapturedStream {
  if (size <= share) return renderStream(stream);
  // A stream kept whole is cut in its middle, like one that overflowed the cap: both ends stay.
  const parts = stream.omitted === 0 ? { ...stream, ...halves(stream.head + stream.tail) } : stream;
  // The marker's count can only grow to the stream's whole size: reserve room for that many digits.
  const room = Math.max(0, share - jsonSize(omissionMarker(parts.bytes)));
  const headSize = jsonSize(parts.head);
  const tailSize = jsonSize(parts.tail);
  let headRoom = Math.min(headSize, Math.floor(room / 2));
  const tailRoom = Math.min(tailSize, room - headRoom);
  headRoom = Math.min(headSize, room - tailRoom);
  const head = longest(parts.head, headRoom, 'start');
  const tail = longest(parts.tail, tailRoom, 'end');
  const dropped =
    Buffer.byteLength(parts.head) -
    Buffer.byteLength(head) +
    Buffer.byteLength(parts.tail) -
    Buffer.byteLength(tail);
  // Counted in the UTF-8 of the decoded text: with bytes that were not UTF-8 it can overshoot.
  const omitted = Math.min(parts.bytes, parts.omitted + dropped);
  return renderStream({ ...parts, head, tail, omitted, truncated: true });
}

/**
 * The longest start (or end) of `text` whose JSON size is at most `max`, never half a surrogate
 * pair. Every character takes at least a byte, so no more than `max` of them are tried.
 */
function longest(text: string, max: number, from: 'start' | 'end'): string {
  const take = (n: number) => (from === 'start' ? text.slice(0, n) : text.slice(text.length - n));
  let lo = 0;
  let hi = Math.min(text.length, Math.max(0, max));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (jsonSize(take(mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  if (lo > 0 && lo < text.length) {
    const splitsPair =
      from === 'start'
        ? isHighSurrogate(text.charCodeAt(lo - 1))
        : isLowSurrogate(text.charCodeAt(text.length - lo));
    if (splitsPair) lo--;
  }
  return take(lo);
}

/** A rendered stream as parts: nothing omitted yet (the text may hold a marker already). */
function asParts(stream: CapturedStream): StreamParts {
  return { head: stream.text, tail: '', omitted: 0, bytes: stream.bytes, truncated: stream.truncated };
}

/** `text` split in the middle, never inside a surrogate pair. */
function halves(text: string): { head: string; tail: string } {
  let middle = Math.floor(text.length / 2);
  if (middle > 0 && isHighSurrogate(text.charCodeAt(middle - 1))) middle--;
  return { head: text.slice(0, middle), tail: text.slice(middle) };
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
