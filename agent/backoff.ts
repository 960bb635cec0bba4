/**
 * How the agent rides out AWS trouble: which errors are worth retrying (throttling, server
 * errors, connection resets and refusals, timeouts) and how long to wait between attempts
 * (exponential with full jitter, so a thousand agents do not retry in step).
 */
import { awsErrorName } from '#shared/aws.ts';

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'KMSInternalException',
  'DependencyTimeoutException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalError',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/** SQS's names for a queue that does not exist (JSON and query protocols). */
export function isMissingQueue(error: unknown): boolean {
  const name = awsErrorName(error);
  return name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue';
}

/** True for errors that may go away by themselves: retry these, give up on the others. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.name;
  if (THROTTLING.has(name) || name === 'TimeoutError' || name === 'AbortError') return true;
  const code = 'code' in error ? String(error.code) : undefined;
  if (code !== undefined && NETWORK_CODES.has(code)) return true;
  const meta = ($metadata(error) ?? {}) as { httpStatusCode?: number };
  const status = meta.httpStatusCode;
  if (status === undefined) return !('$fault' in error) || error.$fault === 'server';
  return status === 429 || status >= 500;
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
