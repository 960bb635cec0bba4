/**
 * Bounded capture of one output stream: the head and the tail of what a command wrote, and how
 * much in all, in constant memory however much it writes.
 */
import type { StreamParts } from '#shared/output-fit.ts';

/** Keeps the first and the last `capBytes / 2` bytes of a stream, and counts all of them. */
export class HeadTailBuffer {
  private readonly headCap: number;
  private readonly tailCap: number;
  private readonly head: Buffer[] = [];
  private headLength = 0;
  private ring: Buffer | undefined;
  private ringWrite = 0;
  private ringFilled = 0;
  private total = 0;

  constructor(capBytes: number) {
    const cap = Math.max(0, Math.floor(capBytes));
    this.headCap = Math.floor(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headLength < this.headCap) {
      const taken = rest.subarray(0, this.headCap - this.headLength);
      this.head.push(Buffer.from(taken));
      this.headLength += taken.length;
      rest = rest.subarray(taken.length);
    }
    if (rest.length > 0 && this.tailCap > 0) this.pushTail(rest);
  }

  /** What was kept, to be rendered (shared/output-fit.ts): head + omission marker + tail. */
  parts(): StreamParts {
    return {
      head: Buffer.concat(this.head).toString('utf8'),
      tail: this.tailBytes().toString('utf8'),
      omitted: this.total - this.headLength - this.ringFilled,
      bytes: this.total,
    };
  }

  private pushTail(chunk: Buffer): void {
    const ring = (this.ring ??= Buffer.alloc(this.tailCap));
    if (chunk.length >= this.tailCap) {
      chunk.copy(ring, 0, chunk.length - this.tailCap);
      this.ringWrite = 0;
      this.ringFilled = this.tailCap;
      return;
    }
    const first = Math.min(chunk.length, this.tailCap - this.ringWrite);
    chunk.copy(ring, this.ringWrite, 0, first);
    if (first < chunk.length) chunk.copy(ring, 0, first);
    this.ringWrite = (this.ringWrite + chunk.length) % this.tailCap;
    this.ringFilled = Math.min(this.tailCap, this.ringFilled + chunk.length);
  }

  private tailBytes(): Buffer {
    if (this.ring === undefined) return Buffer.alloc(0);
    if (this.ringFilled < this.tailCap) return this.ring.subarray(0, this.ringFilled);
    return Buffer.concat([this.ring.subarray(this.ringWrite), this.ring.subarray(0, this.ringWrite)]);
  }
}
