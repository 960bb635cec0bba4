/**
 * Sends the agent's replies (acks, results, rejections, heartbeats) to the stage's replies queue,
 * riding out throttling, connection resets and an endpoint that is briefly down with jittered
 * retries on top of the SDK's own. A result that took a command to produce is worth a minute of
 * retrying; once the agent is stopping, retries end quickly so shutdown stays bounded.
 */
import type { Reply } from '#shared/messages.ts';
import { awsErrorName } from '#shared/aws.ts';
import { backoffDelay, isMissingQueue, isTransient, sleep } from './backoff.ts';
import type { AgentLog } from './json-log.ts';
import type { ReplyBatcher } from './reply-batcher.ts';

export interface ReplySenderOptions {
  /** Attempts per reply (each one already includes the SDK's own retries). */
  attempts?: number;
  /** Longest pause between attempts. */
  maxDelayMs?: number;
}

export class ReplySender {
  readonly #stopping = new AbortController();
  readonly #attempts: number;
  readonly #maxDelayMs: number;

  constructor(
    private readonly batcher: ReplyBatcher,
    private readonly log: AgentLog,
    options: ReplySenderOptions = {},
  ) {
    this.#attempts = options.attempts ?? 8;
    this.#maxDelayMs = options.maxDelayMs ?? 15_000;
  }

  /**
   * Sends `reply`; true once SQS took it. Transient failures (and a replies queue that is missing,
   * as while the control plane is being redeployed) are retried; false when it gave up, which is
   * logged with the run id and type.
   */
  async send(reply: Reply): Promise<boolean> {
    const body = JSON.stringify(reply);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.batcher.send(body);
        return true;
      } catch (error: unknown) {
        const retryable = isTransient(error) || isMissingQueue(error);
        const fields = {
          type: reply.type,
          ...('runId' in reply ? { runId: reply.runId, batch: reply.batch } : {}),
          error,
          attempt,
        };
        if (!retryable || attempt >= this.#attempts || this.#stopping.signal.aborted) {
          this.log.error(
            `could not send the ${reply.type} reply (${awsErrorName(error)}); giving up`,
            fields,
          );
          return false;
        }
        this.log.warn(`sending the ${reply.type} reply failed; retrying`, fields);
        await sleep(backoffDelay(attempt, this.#maxDelayMs), this.#stopping.signal);
      }
    }
  }

  /** From now on a reply that fails is not retried: the agent is going away. */
  stopRetrying(): void {
    this.#stopping.abort();
  }
}
