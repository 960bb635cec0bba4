/**
 * The one retry policy of the stores, for what DynamoDB leaves undone without failing the call:
 * the `UnprocessedKeys` of a BatchGetItem and the `UnprocessedItems` of a BatchWriteItem (AWS
 * asks callers to retry those with exponential backoff). Errors the SDK itself retries
 * (throttling, 5xx) are its own `maxAttempts` business, not this one's.
 */

/** Attempts after the first before the stores give up on unprocessed keys or items. */
export const UNPROCESSED_RETRIES = 8;
const BASE_DELAY_MS = 20;
const MAX_DELAY_MS = 2_000;

/** DynamoDB left keys or items unprocessed after every retry: the table is throttled for long. */
export class UnprocessedItemsError extends Error {
  override name = 'UnprocessedItemsError';
  constructor(
    readonly what: string,
    readonly left: number,
  ) {
    super(`${what}: DynamoDB left ${left} unprocessed after ${UNPROCESSED_RETRIES + 1} attempts`);
  }
}

/** Backoff before retry `attempt` (1, 2, …): exponential, capped, with full jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Calls `attempt` with `pending` until it returns nothing left undone, waiting between calls;
 * throws UnprocessedItemsError naming `what` when the retries run out.
 */
export async function untilProcessed<T>(
  what: string,
  pending: T[],
  attempt: (pending: T[]) => Promise<T[]>,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  for (let n = 0; pending.length > 0; n++) {
    if (n > UNPROCESSED_RETRIES) throw new UnprocessedItemsError(what, pending.length);
    if (n > 0) await sleep(retryDelayMs(n));
    pending = await attempt(pending);
  }
}
