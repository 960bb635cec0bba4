/**
 * Feeds the replies queue to ingest the way Lambda's SQS event source mapping does: batches of up
 * to 10, several pollers, `ReportBatchItemFailures` (successful records deleted, failed ones left
 * to reappear after the visibility timeout and, after maxReceiveCount, to go to the DLQ).
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export interface EventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  invoke: (event: SQSEvent) => Promise<unknown>;
  pollers?: number;
  onError?: (error: unknown) => void;
  /** The SenderId of a message, from the credentials that sent it (`sqs-senders.ts`). */
  senderOf?: (messageId: string) => string | undefined;
}

export function toRecord(
  message: Message,
  queueArn: string,
  region: string,
  senderOf: (messageId: string) => string | undefined = () => undefined,
): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: senderOf(message.MessageId ?? '') ?? a.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export class SqsEventSource {
  readonly #abort = new AbortController();
  #loops: Promise<void>[] = [];

  constructor(private readonly options: EventSourceOptions) {}

  start(): void {
    const count = this.options.pollers ?? 4;
    this.#loops = Array.from({ length: count }, () => this.#poll());
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.allSettled(this.#loops);
  }

  async #poll(): Promise<void> {
    const { sqs, queueUrl } = this.options;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 20,
            MessageSystemAttributeNames: ['All'],
            // local-aws-sqs 2.0.2 ignores MessageSystemAttributeNames and returns the system
            // attributes (SentTimestamp, ApproximateReceiveCount) only for the older, deprecated
            // AttributeNames: without them every record would say it was sent when it was received,
            // and the ledger judges a reply by when it reached SQS (AWS's event source always
            // includes them).
            AttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        const messages = out.Messages ?? [];
        if (messages.length > 0) await this.#deliver(messages);
      } catch (error: unknown) {
        if (signal.aborted) return;
        this.options.onError?.(error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async #deliver(messages: Message[]): Promise<void> {
    const records = messages.map((m) =>
      toRecord(m, this.options.queueArn, this.options.region, this.options.senderOf),
    );
    let failed: Set<string>;
    try {
      const response = (await this.options.invoke({ Records: records })) as SQSBatchResponse | undefined;
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error: unknown) {
      // A function error fails the whole batch, as with Lambda.
      this.options.onError?.(error);
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length === 0) return;
    await this.options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.options.queueUrl,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }
}
