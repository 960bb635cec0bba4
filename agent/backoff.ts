/**
 * How the agent rides out AWS trouble: which errors are worth retrying (throttling, server
 * errors, connection resets and refusals, timeouts) and how long to wait between attempts
 * (exponential with full jitter, so a thousand agents do not retry in step).
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/**
 * Beyond the SDK's own classification: KMS's and AWS's names for a busy or failing service, which
 * an emulator (or a proxy) may send without the 5xx status the SDK goes by.
 */
const SERVICE_TROUBLE = new Set([
  'KMSInternalException',
  'DependencyTimeoutException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
]);

/** A connection dropped mid-request; the SDK's lists have the other network failures. */
const ABORTED_CONNECTION = 'ECONNABORTED';

/**
 * True for errors that may go away by themselves: retry these, give up on the others. The SDK's
 * own classification decides first (throttling names and 429, timeouts, network codes, 5xx,
 * retryable traits, clock skew), then the few cases it leaves out.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  if (isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError)) return true;
  // Our own timeouts abort the request: worth another try, unlike the SDK's callers' aborts.
  if (error.name === 'AbortError' || SERVICE_TROUBLE.has(error.name)) return true;
  if ('code' in error && error.code === ABORTED_CONNECTION) return true;
  // An error no service answered with (no status, no fault: a socket, a proxy) may pass too.
  const status = ($metadata(error) as { httpStatusCode?: number } | undefined)?.httpStatusCode;
  if (status === undefined) return !('$fault' in error) || error.$fault === 'server';
  return false;
}

/** Milliseconds to wait before retry number `failures` (1, 2, …): full jitter up to a cap. */
export function backoffDelay(failures: number, capMs = 20_000, baseMs = 250, random = Math.random): number {
  return random() * Math.min(capMs, baseMs * 2 ** Math.max(0, failures));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function $metadata(error: Error): unknown {
  return '$metadata' in error ? error.$metadata : undefined;
}
