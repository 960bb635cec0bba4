/** The pace at which `drover run` polls the run it follows (cli/watch-pace.ts). */
import { describe, expect, it } from 'vitest';
import { MAX_IDLE_POLL_MS, QUICK_START_MS, nextPause, type PollOutcome } from '#cli/watch-pace.ts';

const poll = (over: Partial<PollOutcome>): PollOutcome => ({
  pollMs: 100,
  lastPauseMs: 100,
  landed: 0,
  allIn: false,
  watchedMs: QUICK_START_MS + 1,
  ...over,
});

describe('nextPause', () => {
  it("keeps the quick pace through a run's first seconds although nothing lands yet", () => {
    expect(nextPause(poll({ watchedMs: 0 }))).toBe(100);
    expect(nextPause(poll({ watchedMs: QUICK_START_MS - 1, lastPauseMs: 100 }))).toBe(100);
  });

  it('doubles the pause after the quick start while nothing lands, up to a second', () => {
    expect(nextPause(poll({ lastPauseMs: 100 }))).toBe(200);
    expect(nextPause(poll({ lastPauseMs: 800 }))).toBe(MAX_IDLE_POLL_MS);
    expect(nextPause(poll({ lastPauseMs: MAX_IDLE_POLL_MS }))).toBe(MAX_IDLE_POLL_MS);
  });

  it('goes back to the quick pace when a host lands', () => {
    expect(nextPause(poll({ lastPauseMs: MAX_IDLE_POLL_MS, landed: 1 }))).toBe(100);
  });

  it('keeps the quick pace once every host is in, however long the run waited before', () => {
    expect(nextPause(poll({ allIn: true, lastPauseMs: MAX_IDLE_POLL_MS }))).toBe(100);
  });

  it('never polls faster than asked for when the pace given is slower than the idle bound', () => {
    expect(nextPause(poll({ pollMs: 2_000, lastPauseMs: 2_000 }))).toBe(2_000);
  });
});
