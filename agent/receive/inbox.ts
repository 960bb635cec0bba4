/**
 * An agent's own SQS inbox, `drover-<stage>-node-<nodeId>`: created by the agent (idempotent,
 * tagged), long-polled until the agent stops, and recreated when someone deletes it. Receive
 * failures back off with jitter and never end the loop; one bad message never stops the others,
 * and one whose handling keeps failing is set aside in the dead-letter file after
 * {@link MAX_HANDLING_ATTEMPTS} tries, not received again for the queue's whole retention.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  TagQueueCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { inboxQueueName } from '#shared/stage-config.ts';
import { awsErrorName, isMissingQueue } from '#shared/aws.ts';
import { backoffDelay, isTransient, sleep } from '../backoff.ts';
import type { AgentLog } from '../json-log.ts';

export interface InboxOptions {
  sqs: SQSClient;
  log: AgentLog;
  stage: string;
  nodeId: string;
  /**
   * The instance ARN to tag the inbox with (`drover:instance`): the agent policy allows an
   * instance only the inbox that carries its own ARN.
   */
  instanceArn?: string;
  /** Aborting it ends `create` retries and the poll loop (an open long poll is cut short). */
  signal: AbortSignal;
  /** Messages whose handling failed MAX_HANDLING_ATTEMPTS times are appended here (JSON lines), then deleted. */
  deadLetterPath: string;
}

/** Times a message's handling may fail (it comes back after the visibility timeout) before it is set aside. */
export const MAX_HANDLING_ATTEMPTS = 3;

/** Failure counts kept in memory at most: beyond, the oldest are forgotten (SQS's receive count still bounds them). */
const FAILURES_KEPT = 1_000;

/**
 * How long a received message stays hidden from other receives (seconds), set on every receive
 * instead of the inbox's 60 s. A long poll its agent abandoned (stopped, restarted, crashed) is
 * still open on SQS's side until its wait ends, and SQS hands it the next message, which then stays
 * in flight for the visibility timeout (aws-sdk-js#2350; the local SQS does the same). With 60 s a
 * request sent while the agent restarts expired before it came back; with 5 s the agent that is
 * back receives it within the request's acknowledgement window (10 s by default). A message is
 * deleted as soon as its claim is on disk (milliseconds); a copy that comes back while it is still
 * being handled is a replay, and the dedupe store drops it.
 */
export const RECEIVE_VISIBILITY_SEC = 5;

export class Inbox {
  #url = '';
  /** Handling failures by message id: SQS's ApproximateReceiveCount also counts receives a crash lost. */
  readonly #failures = new Map<string, number>();

  constructor(private readonly options: InboxOptions) {}

  get url(): string {
    return this.#url;
  }

  /** Creates the queue, waiting out transient errors until it works or the signal aborts. */
  async create(): Promise<void> {
    for (let failures = 1; !this.options.signal.aborted; failures++) {
      try {
        return await this.#createOnce();
      } catch (error: unknown) {
        if (!isTransient(error)) throw error;
        this.options.log.warn('cannot create the inbox yet; retrying', {
          error: awsErrorName(error),
          failures,
        });
        await sleep(backoffDelay(failures), this.options.signal);
      }
    }
  }

  /**
   * Long-polls (`waitSec()` seconds per receive) until the signal aborts, handing each message to
   * `handle` in turn. A deleted queue is recreated, then `onRecreated` runs (to announce the URL).
   */
  async poll(
    waitSec: () => number,
    handle: (message: Message) => Promise<void>,
    onRecreated: () => Promise<void>,
  ): Promise<void> {
    const { sqs, log, signal } = this.options;
    let failures = 0;
    while (!signal.aborted) {
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: waitSec(),
            VisibilityTimeout: RECEIVE_VISIBILITY_SEC,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
        if (failures > 0) log.info('receiving again', { after: failures });
        failures = 0;
      } catch (error: unknown) {
        if (signal.aborted) return;
        failures++;
        if (isMissingQueue(error)) {
          log.warn('inbox queue is gone: recreating it', { inbox: this.#url });
          try {
            await this.#createOnce();
            await onRecreated();
            continue;
          } catch (createError: unknown) {
            log.warn('cannot recreate the inbox yet', { error: createError });
          }
        } else {
          log.warn('receive failed; backing off', { error, failures });
        }
        await sleep(backoffDelay(failures), signal);
        continue;
      }
      for (const message of messages) {
        try {
          await handle(message);
          if (message.MessageId !== undefined) this.#failures.delete(message.MessageId);
        } catch (error: unknown) {
          // One message must not stop the loop; it reappears after the visibility timeout.
          await this.#handlingFailed(message, error);
        }
      }
    }
  }

  /** Counts a failure; the last allowed one writes the message to the dead-letter file and deletes it. */
  async #handlingFailed(message: Message, error: unknown): Promise<void> {
    const { log, deadLetterPath } = this.options;
    const id = message.MessageId ?? '';
    const attempts = Math.max(
      (this.#failures.get(id) ?? 0) + 1,
      Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    );
    this.#failures.delete(id);
    if (attempts < MAX_HANDLING_ATTEMPTS) {
      this.#failures.set(id, attempts);
      if (this.#failures.size > FAILURES_KEPT) this.#failures.delete(this.#failures.keys().next().value!);
      // Back after 2 s, then 4 s (a receive hides it for RECEIVE_VISIBILITY_SEC).
      const retryInSec = 2 ** attempts;
      log.error('handling a message failed; it comes back shortly', {
        messageId: id,
        attempts,
        retryInSec,
        error,
      });
      await this.options.sqs
        .send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.#url,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: retryInSec,
          }),
        )
        .catch((visibilityError: unknown) =>
          log.warn('could not bring the message back sooner', { messageId: id, error: visibilityError }),
        );
      return;
    }
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    try {
      mkdirSync(dirname(deadLetterPath), { recursive: true });
      const line = {
        time: new Date().toISOString(),
        messageId: id,
        attempts,
        error: reason,
        body: message.Body,
      };
      appendFileSync(deadLetterPath, JSON.stringify(line) + '\n');
      log.error('handling a message keeps failing; moved to the dead-letter file', {
        messageId: id,
        attempts,
        file: deadLetterPath,
        error,
      });
    } catch (writeError: unknown) {
      log.error('handling a message keeps failing; the dead-letter file cannot be written, deleting it', {
        messageId: id,
        attempts,
        error,
        writeError,
      });
    }
    await this.delete(message);
  }

  /** Deletes a handled message; a failure is logged (the dedupe store drops it when it comes back). */
  async delete(message: Message): Promise<void> {
    try {
      await this.options.sqs.send(
        new DeleteMessageCommand({ QueueUrl: this.#url, ReceiptHandle: message.ReceiptHandle }),
      );
    } catch (error: unknown) {
      this.options.log.warn('could not delete a message from the inbox', {
        messageId: message.MessageId,
        error,
      });
    }
  }

  async #createOnce(): Promise<void> {
    const { stage, nodeId, instanceArn } = this.options;
    const out = await this.options.sqs.send(
      new CreateQueueCommand({
        QueueName: inboxQueueName(stage, nodeId),
        Attributes: {
          MessageRetentionPeriod: '86400',
          VisibilityTimeout: '60',
          ReceiveMessageWaitTimeSeconds: '20',
        },
        tags: {
          'drover:stage': stage,
          'drover:node': nodeId,
          ...(instanceArn !== undefined ? { 'drover:instance': instanceArn } : {}),
        },
      }),
    );
    this.#url = out.QueueUrl ?? '';
    // An inbox created before agents tagged their instance (or by an older agent) keeps its old
    // tags through CreateQueue; the agent policy lets an instance tag an untagged inbox as its own
    // once, and then only it can use the queue.
    if (instanceArn !== undefined) {
      await this.options.sqs.send(
        new TagQueueCommand({ QueueUrl: this.#url, Tags: { 'drover:instance': instanceArn } }),
      );
    }
  }
}
