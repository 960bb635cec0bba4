/**
 * How long a request stays valid, one rule for dispatch (which stamps `expiresAt`), plan and the
 * CLI (which refuse a `ttlSec` that would outlive the acknowledgement window) and the agent
 * (whose dedupe store must remember a request at least as long as it can be delivered).
 *
 * A request expires when its acknowledgement window ends, so a host the run reports as
 * `no_response` did not, and will not, run the command: an agent that takes the request later
 * (paused, suspended, cut off by a partition) finds it expired and refuses it.
 */

/** Longest discovery timeout (acknowledgement window) a run may ask for. */
export const MAX_DISCOVERY_TIMEOUT_SEC = 3_600;

/**
 * Allowance for the agents' clocks, which judge `expiresAt`, drifting from the control plane's.
 * A request is valid for the discovery timeout plus this; the acknowledgement wait lasts the
 * discovery timeout plus twice this, so an agent whose clock is up to this much behind still
 * takes a request only before the run gives up on it, with a second for its ack to arrive.
 */
export const REQUEST_CLOCK_SKEW_SEC = 1;

/** The longest any request is valid. Agents refuse longer ones; their dedupe store outlives it. */
export const MAX_REQUEST_LIFETIME_SEC = MAX_DISCOVERY_TIMEOUT_SEC + REQUEST_CLOCK_SKEW_SEC;

/** Shortest dedupe horizon an agent accepts: the longest request lifetime, and its clock's allowance. */
export const MIN_DEDUPE_HORIZON_SEC = MAX_REQUEST_LIFETIME_SEC + REQUEST_CLOCK_SKEW_SEC;

interface ExpiryOptions {
  discoveryTimeoutSec: number;
  ttlSec?: number | undefined;
}

/** Seconds the acknowledgement wait lasts: the request's whole life, with room for skew and the ack. */
export function ackWindowSec(options: Pick<ExpiryOptions, 'discoveryTimeoutSec'>): number {
  return options.discoveryTimeoutSec + 2 * REQUEST_CLOCK_SKEW_SEC;
}

/** Seconds a request is valid from dispatch: the discovery timeout plus the allowance, or a shorter `ttlSec`. */
export function requestLifetimeSec(options: ExpiryOptions): number {
  const window = options.discoveryTimeoutSec + REQUEST_CLOCK_SKEW_SEC;
  return Math.min(options.ttlSec ?? window, window);
}

/** Why `ttlSec` cannot be used with this discovery timeout, or undefined if it can. */
export function ttlProblem(options: ExpiryOptions): string | undefined {
  const window = options.discoveryTimeoutSec + REQUEST_CLOCK_SKEW_SEC;
  if (options.ttlSec === undefined || options.ttlSec <= window) return undefined;
  return (
    `ttl ${options.ttlSec} s is longer than the acknowledgement window (discovery timeout ` +
    `${options.discoveryTimeoutSec} s + ${REQUEST_CLOCK_SKEW_SEC} s): a host could run the command ` +
    `after the run reported it as not responding. The ttl may only shorten a request's life: ` +
    `use at most ${window}, or a longer discovery timeout`
  );
}
