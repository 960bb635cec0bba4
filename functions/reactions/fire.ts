/**
 * The end of a reaction's debounce window (the reaction state machine's `Fire` step): freeze the
 * window's hosts and start the one run of the window with all of them. Retried by Step Functions
 * on any error: the frozen set makes the retry ask for the same run (name and input), so a crash
 * anywhere in here still makes exactly one run.
 */
import type { ReactionWindows } from '#shared/stores/reaction-windows.ts';
import type { ReactionWindow } from './react.ts';
import { startReactionRun, type ReactionRunDeps } from './start-run.ts';

export interface FireDeps extends ReactionRunDeps {
  windows: Pick<ReactionWindows, 'fire'>;
  now: () => number;
}

export interface FireOutcome {
  runId: string;
  /** How many hosts the run names (not the hosts: the state's output is at most 256 KiB). */
  hostCount: number;
  /** False when the run had started and ended before (a retried step). */
  started: boolean;
}

export async function fireWindow(window: ReactionWindow, deps: FireDeps): Promise<FireOutcome> {
  const hosts = await deps.windows.fire(window.runId, deps.now());
  if (hosts.length === 0) {
    // A timer without a pending item: the item expired (TTL) or was never written. Nothing to say.
    deps.log.info('reaction window empty', { runId: window.runId });
    return { runId: window.runId, hostCount: 0, started: false };
  }
  const started = await startReactionRun(window.runId, window, hosts, deps, {
    windowStart: window.windowStart,
  });
  return { runId: window.runId, hostCount: hosts.length, started };
}
