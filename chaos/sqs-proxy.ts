/**
 * An HTTP proxy on 127.0.0.1 between agents and the SQS emulator that does to their calls what a
 * bad day does: cut the replies queue off or the whole endpoint (connections reset, as while the
 * emulator restarts), or deliver every message three
 * times (each reply sent thrice; each inbox message made to come back until received thrice, its
 * first two deletes swallowed). Speaks the JSON protocol the SDK uses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { forward as forwardTo, reply, startProxyServer } from './forward.ts';

export type ProxyMode = 'pass' | 'replies-down' | 'down' | 'triple';

/** Times each message reaches its reader in `triple` mode. */
export const DELIVERIES = 3;

export interface SqsProxy {
  url: string;
  mode: ProxyMode;
  /** Calls refused since the start (replies-down). */
  refused: number;
  /** Inbox messages received by agents, copies included (triple). */
  inboxDeliveries: number;
  close(): Promise<void>;
}

export async function startSqsProxy(targetUrl: string): Promise<SqsProxy> {
  const target = new URL(targetUrl);
  /** Inbox deliveries by message id, and the message id of each receipt handle. */
  const deliveries = new Map<string, number>();
  const messageOf = new Map<string, string>();

  const forward = (req: IncomingMessage, body: Buffer) => forwardTo(target, req, body);

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const call = String(req.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
    const json = raw.length > 0 ? (JSON.parse(raw.toString()) as Record<string, unknown>) : {};
    const toReplies = typeof json.QueueUrl === 'string' && json.QueueUrl.endsWith('-replies');
    if (
      proxy.mode === 'down' ||
      (proxy.mode === 'replies-down' && toReplies && call.startsWith('SendMessage'))
    ) {
      proxy.refused++;
      req.socket.destroy();
      return;
    }
    if (proxy.mode === 'triple' && call === 'SendMessageBatch') {
      let answer = await forward(req, raw);
      for (let i = 1; i < DELIVERIES; i++) answer = await forward(req, raw);
      return reply(res, answer);
    }
    if (proxy.mode === 'triple' && call === 'ReceiveMessage' && !toReplies) {
      // Back after a second when not deleted, so the copies follow one another quickly.
      const body = Buffer.from(JSON.stringify({ ...json, VisibilityTimeout: 1 }));
      const answer = await forward(req, body);
      const out = (answer.body.length > 0 ? JSON.parse(answer.body.toString()) : {}) as {
        Messages?: { MessageId: string; ReceiptHandle: string }[];
      };
      for (const m of out.Messages ?? []) {
        deliveries.set(m.MessageId, (deliveries.get(m.MessageId) ?? 0) + 1);
        proxy.inboxDeliveries++;
        messageOf.set(m.ReceiptHandle, m.MessageId);
      }
      return reply(res, answer);
    }
    if (proxy.mode === 'triple' && call === 'DeleteMessage' && !toReplies) {
      const id = messageOf.get(String(json.ReceiptHandle));
      if (id !== undefined && (deliveries.get(id) ?? 0) < DELIVERIES) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end('{}');
        return;
      }
    }
    reply(res, await forward(req, raw));
  };

  const server = await startProxyServer(handle);
  const proxy: SqsProxy = {
    url: server.url,
    mode: 'pass',
    refused: 0,
    inboxDeliveries: 0,
    close: server.close,
  };
  return proxy;
}
