/**
 * The SenderId of each message sent to the local SQS emulator, taken from the credentials that
 * signed the send, as SQS does: local-aws-sqs gives every message one fixed SenderId, which would
 * leave ingest's sender check nothing to check on one machine. Which key means which principal:
 * shared/local-principals.ts. Nothing is authenticated locally: this runs the same check as AWS,
 * it does not make the emulator a security boundary.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { localSenderId } from '#shared/local-principals.ts';

/** How many message ids are remembered; a redelivered old message falls back to the emulator's. */
const KEPT = 100_000;

export class SenderRegistry {
  readonly #senders = new Map<string, string>();

  senderOf(messageId: string): string | undefined {
    return this.#senders.get(messageId);
  }

  record(messageId: string, senderId: string): void {
    this.#senders.set(messageId, senderId);
    if (this.#senders.size > KEPT) this.#senders.delete(this.#senders.keys().next().value!);
  }

  /**
   * Wraps the emulator's request handler: for each SendMessage or SendMessageBatch (JSON protocol,
   * as the SDK speaks it), the ids in the answer are recorded with the sender of the request.
   */
  attach(server: Server): void {
    const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target === 'AmazonSQS.SendMessage' || target === 'AmazonSQS.SendMessageBatch') {
        this.#watch(req, res);
      }
      for (const handler of handlers) handler(req, res);
    });
  }

  #watch(req: IncomingMessage, res: ServerResponse): void {
    const key = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    if (key === undefined) return;
    const sender = localSenderId(key);
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.end = ((...args: unknown[]) => {
      const body: unknown = args[0];
      if (typeof body === 'string' || Buffer.isBuffer(body)) this.#recordAnswer(body.toString(), sender);
      return end(...args);
    }) as ServerResponse['end'];
  }

  #recordAnswer(body: string, sender: string): void {
    try {
      const answer = JSON.parse(body) as { MessageId?: string; Successful?: { MessageId?: string }[] };
      if (answer.MessageId) this.record(answer.MessageId, sender);
      for (const entry of answer.Successful ?? []) if (entry.MessageId) this.record(entry.MessageId, sender);
    } catch {
      // An error answer, or not JSON: no message was stored.
    }
  }
}
