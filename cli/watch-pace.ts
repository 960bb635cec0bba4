/**
 * How often `drover run` (and `show`, `ping`) polls a run it follows. Quick while results may come
 * at any moment, slower while a run only waits, so that many operators following long runs leave
 * the control plane free to record the replies they are waiting for.
 */

/**
 * A run's first seconds are polled at the quick pace even when nothing lands: a short command
 * (`uptime` on a hundred hosts) has its results in them, and a pause doubled while the run was
 * still planning and dispatching delays its end on screen by as much (a poll at 0.1, 0.3, 0.7 s
 * sees a run that ended at 0.35 s only at 0.7 s). What this costs is what the cost model counts
 * for every second followed (the record and the index every 0.1 s).
 */
export const QUICK_START_MS = 3_000;

/**
 * Longest pause between polls: after the quick start, a poll that finds nothing new doubles the
 * pause (from `pollMs`) up to this, one that finds a host resets it, so a run waiting for acks or
 * for a long command costs its watchers a poll a second, not ten.
 */
export const MAX_IDLE_POLL_MS = 1_000;

export interface PollOutcome {
  /** The usual pause between polls (`--poll-ms` of the bench; 100 ms). */
  pollMs: number;
  /** The pause before the poll that just ended. */
  lastPauseMs: number;
  /** Hosts that poll found landed. */
  landed: number;
  /** Every host of the run has landed. */
  allIn: boolean;
  /** Since the watcher started. */
  watchedMs: number;
}

/**
 * The pause before the next poll. Once every host is in, the run's end is a few writes away: the
 * quick pace, whatever came before (a poll then reads the run's record only, see run-watcher.ts).
 */
export function nextPause({ pollMs, lastPauseMs, landed, allIn, watchedMs }: PollOutcome): number {
  if (allIn || landed > 0 || watchedMs < QUICK_START_MS) return pollMs;
  return Math.min(Math.max(pollMs, MAX_IDLE_POLL_MS), lastPauseMs * 2);
}
