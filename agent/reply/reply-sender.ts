/**
 * Sends the agent's replies (acks, results, rejections, heartbeats) to the stage's replies queue,
 * riding out throttling, connection resets and an endpoint that is briefly down with jittered
 * retries on top of the SDK's own. A result that took a command to produce is worth a minute of
 * retrying; once the agent is stopping, retries end quickly so shutdown stays bounded. A reply to
 * a run that still fails is kept on disk (see {@link ReplySpool}) and sent once the queue takes
 * replies again; only heartbeats, which the next one replaces, are let go.
 */
import type { Reply } from '#shared/messages.ts';
import { awsErrorName } from '#shared/aws.ts';
import { isMissingQueue } from '#shared/aws.ts';
import { sqsJson } from '#shared/sqs-json.ts';
import { backoffDelay, isTransient, sleep } from '../backoff.ts';
import type { AgentLog } from '../json-log.ts';
import type { ReplyBatcher } from './reply-batcher.ts';
import type { ReplySpool } from './reply-spool.ts';

export interface ReplySenderOptions {
  /** Attempts per reply (each one already includes the SDK's own retries). */
  attempts?: number;
  /** Longest pause between attempts. */
  maxDelayMs?: number;
  /** Where replies that could not be sent are kept; without one they are logged and lost. */
  spool?: ReplySpool;
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
    this.#spool = options.spool;
  }

  readonly #spool: ReplySpool | undefined;

  /**
   * Sends `reply`; true once SQS took it. Transient failures (and a replies queue that is missing,
   * as while the control plane is being redeployed) are retried; false when it gave up, which is
   * logged with the run id and type, and the reply (unless a heartbeat) kept in the spool.
   * `lingerMs`: the reply may wait that long to share a call (see ReplyBatcher).
   */
  async send(reply: Reply, options: { lingerMs?: number } = {}): Promise<boolean> {
    const body = sqsJson(reply);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.batcher.send(body, options);
        // The queue is reachable again: what was kept waits no longer.
        if (this.#spool?.hasPending) void this.#spool.drain();
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
          this.#giveUp(reply, body, error, fields);
          return false;
        }
        this.log.warn(`sending the ${reply.type} reply failed; retrying`, fields);
        await sleep(backoffDelay(attempt, this.#maxDelayMs), this.#stopping.signal);
      }
    }
  }

  /** Keeps a run's reply in the spool; a heartbeat (or a reply the disk refuses) is logged as lost. */
  #giveUp(reply: Reply, body: string, error: unknown, fields: Record<string, unknown>): void {
    const problem = awsErrorName(error);
    if (reply.type !== 'heartbeat' && this.#spool) {
      try {
        this.#spool.keep(body);
        this.log.warn(
          `could not send the ${reply.type} reply (${problem}); kept on disk to send later`,
          fields,
        );
        return;
      } catch (spoolError: unknown) {
        this.log.error(`could not send the ${reply.type} reply (${problem}) nor keep it on disk; lost`, {
          ...fields,
          spoolError,
        });
        return;
      }
    }
    this.log.error(`could not send the ${reply.type} reply (${problem}); giving up`, fields);
  }

  /** From now on a reply that fails is not retried: the agent is going away. */
  stopRetrying(): void {
    this.#stopping.abort();
  }
}
