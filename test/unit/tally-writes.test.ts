import { describe, expect, it } from 'vitest';
import { CoalescedTallyWrites, mergeMarkers, type Markers } from '#functions/run/tally-writes.ts';
import type { TallyItem } from '#shared/runs-table.ts';

/** A tally store in memory whose writes finish when the test says so. */
function fakeTally() {
  const sets = new Map<string, Set<number | string>>();
  const writes: Markers[] = [];
  const finish: ((fail?: Error) => void)[] = [];
  const write = (markers: Markers) => {
    writes.push(markers);
    return new Promise<TallyItem>((resolve, reject) => {
      finish.push((fail) => {
        if (fail) return reject(fail);
        for (const [marker, members] of markers) {
          const set = sets.get(marker) ?? new Set();
          members.forEach((m) => set.add(m));
          sets.set(marker, set);
        }
        resolve({ ackedBy: new Set(sets.get('ackedBy')), doneBy: new Set(sets.get('doneBy')) } as TallyItem);
      });
    });
  };
  return { sets, writes, finish, write };
}

const acked = (...members: number[]): Markers => new Map([['ackedBy', new Set(members)]]);
const tick = () => new Promise((r) => setImmediate(r));

describe('CoalescedTallyWrites', () => {
  it('writes at once when no write of the tally is in flight', async () => {
    const tally = fakeTally();
    const writes = new CoalescedTallyWrites();

    const first = writes.add('g0', acked(1), tally.write);
    tally.finish[0]!();
    const second = writes.add('g0', acked(2), tally.write);
    await tick();
    tally.finish[1]!();

    expect([...(await first)!.ackedBy!]).toEqual([1]);
    expect([...(await second)!.ackedBy!].sort()).toEqual([1, 2]);
    expect(tally.writes).toHaveLength(2);
  });

  it('sends what came while a write was in flight as one write, each caller getting a tally that holds its members', async () => {
    const tally = fakeTally();
    const writes = new CoalescedTallyWrites();

    const first = writes.add('g0', acked(1), tally.write);
    const waiting = [
      writes.add('g0', acked(2), tally.write),
      writes.add('g0', new Map([['doneBy', new Set([3])]]), tally.write),
      writes.add('g0', acked(3, 2), tally.write),
    ];
    tally.finish[0]!();
    await tick();
    tally.finish[1]!();
    const tallies = await Promise.all(waiting);

    expect(tally.writes).toHaveLength(2);
    expect(tally.writes[1]).toEqual(
      new Map([
        ['ackedBy', new Set([2, 3])],
        ['doneBy', new Set([3])],
      ]),
    );
    expect([...(await first)!.ackedBy!]).toEqual([1]);
    for (const t of tallies) {
      expect([...t!.ackedBy!].sort()).toEqual([1, 2, 3]);
      expect([...t!.doneBy!]).toEqual([3]);
    }
  });

  it('fails every caller whose members a failed write carried, and writes again for the next', async () => {
    const tally = fakeTally();
    const writes = new CoalescedTallyWrites();

    const first = writes.add('g0', acked(1), tally.write);
    const second = writes.add('g0', acked(2), tally.write);
    const third = writes.add('g0', acked(3), tally.write);
    tally.finish[0]!();
    await tick();
    tally.finish[1]!(new Error('throttled'));
    await expect(second).rejects.toThrow('throttled');
    await expect(third).rejects.toThrow('throttled');
    const again = writes.add('g0', acked(2), tally.write);
    await tick();
    tally.finish[2]!();

    expect([...(await first)!.ackedBy!]).toEqual([1]);
    expect([...(await again)!.ackedBy!].sort()).toEqual([1, 2]);
    expect(tally.writes).toHaveLength(3);
  });

  it('keeps a failed first write from holding up the tally', async () => {
    const tally = fakeTally();
    const writes = new CoalescedTallyWrites();

    const first = writes.add('g0', acked(1), tally.write);
    tally.finish[0]!(new Error('unavailable'));
    await expect(first).rejects.toThrow('unavailable');
    const next = writes.add('g0', acked(1), tally.write);
    await tick();
    tally.finish[1]!();

    expect([...(await next)!.ackedBy!]).toEqual([1]);
  });

  it('never makes one tally wait for another', async () => {
    const tally = fakeTally();
    const writes = new CoalescedTallyWrites();

    void writes.add('g0', acked(1), tally.write);
    void writes.add('g1', acked(1), tally.write);

    expect(tally.writes).toHaveLength(2);
  });
});

describe('mergeMarkers', () => {
  it('adds members set by set without changing what it merges from', () => {
    const from = acked(2);
    const into = mergeMarkers(acked(1), from);

    expect(into).toEqual(new Map([['ackedBy', new Set([1, 2])]]));
    expect(from).toEqual(acked(2));
  });
});
