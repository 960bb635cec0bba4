/**
 * An agent's own SQS inbox, `drover-<stage>-node-<nodeId>`: created by the agent (idempotent,
 * tagged), long-polled until the agent stops, and recreated when someone deletes it. Receive
 * failures back off with jitter and never end the loop; one bad message never stops the others.
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  TagQueueCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { inboxQueueName } from '#shared/stage-config.ts';
import { awsErrorName } from '#shared/aws.ts';
import { backoffDelay, isMissingQueue, isTransient, sleep } from './backoff.ts';
import type { AgentLog } from './json-log.ts';

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
}

export class Inbox {
  #url = '';

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
        } catch (error: unknown) {
          // One message must not stop the loop; it reappears after the visibility timeout.
          log.error('handling a message failed', { messageId: message.MessageId, error });
        }
      }
    }
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
