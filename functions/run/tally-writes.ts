/**
 * Counting writes of one container, coalesced per tally: while a write to a group's tally is in
 * flight, the markers of the deliveries that come meanwhile wait and go out together in the next
 * write (a union of sets), so concurrent deliveries make one tally write instead of one each. That
 * is where one process serves several deliveries at once (the local stack's four pollers); a
 * Lambda container serves one at a time, whose replies the ledger already counts in one write
 * per group, so there it changes nothing. A tally write costs its whole item (up to a
 * group's two sets of slots) in write units, in the emulator's encoding and in the answer the SDK
 * parses: the dearest write of the ledger.
 *
 * Nothing is counted less: each waiting delivery gets the tally as the write that carried its
 * markers left it (it holds them), and a failed write fails every delivery whose markers it
 * carried, so each is delivered again and re-applies its markers (adding to a set twice changes
 * nothing).
 */
import type { TallyItem, TallyMember } from '#shared/runs-table.ts';
import type { Marker } from './reply-transitions.ts';

/** A group's markers to add: the nodes' tally members by marker set. */
export type Markers = Map<Marker, Set<TallyMember>>;

/** Adds markers to one tally and answers the tally as it is after (undefined: no such tally). */
export type TallyWrite = (markers: Markers) => Promise<TallyItem | undefined>;

interface Queued {
  markers: Markers;
  write: TallyWrite;
  waiters: { resolve: (tally: TallyItem | undefined) => void; reject: (error: unknown) => void }[];
}

/** Adds every member of `from` to `into`, marker by marker. */
export function mergeMarkers(into: Markers, from: Markers): Markers {
  for (const [marker, members] of from) {
    const set = into.get(marker);
    if (set) for (const member of members) set.add(member);
    else into.set(marker, new Set(members));
  }
  return into;
}

export class CoalescedTallyWrites {
  /** Tallies (by key) with a write in flight. */
  readonly #busy = new Set<string>();
  /** What waits for the next write of a busy tally. */
  readonly #queued = new Map<string, Queued>();

  /** Adds `markers` to the tally `key` names: now, or with the next write if one is in flight. */
  add(key: string, markers: Markers, write: TallyWrite): Promise<TallyItem | undefined> {
    if (this.#busy.has(key)) {
      return new Promise((resolve, reject) => {
        const queued = this.#queued.get(key);
        if (queued) {
          mergeMarkers(queued.markers, markers);
          queued.waiters.push({ resolve, reject });
        } else {
          this.#queued.set(key, {
            markers: mergeMarkers(new Map(), markers),
            write,
            waiters: [{ resolve, reject }],
          });
        }
      });
    }
    this.#busy.add(key);
    const written = write(markers);
    void written.then(
      () => this.#next(key),
      () => this.#next(key),
    );
    return written;
  }

  /** After a write of `key`: sends what waited meanwhile as one write, or marks the tally idle. */
  #next(key: string): void {
    const queued = this.#queued.get(key);
    if (!queued) {
      this.#busy.delete(key);
      return;
    }
    this.#queued.delete(key);
    queued
      .write(queued.markers)
      .then(
        (tally) => queued.waiters.forEach((w) => w.resolve(tally)),
        (error: unknown) => queued.waiters.forEach((w) => w.reject(error)),
      )
      .finally(() => this.#next(key));
  }
}
