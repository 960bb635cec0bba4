/**
 * An HTTP proxy on 127.0.0.1 between the control plane's handlers and dynalite that makes ingest
 * fail around its two writes for a reply: the node's transition, then the counter `ADD` on the
 * batch item. `between`: the ADD is answered with a server error without being applied (three
 * times in a row, so the SDK's retries fail too and ingest throws between its writes). `after`:
 * the ADD is applied, then answered with a server error once (ingest, or the SDK, tries again
 * after its writes took effect).
 */
import type { IncomingMessage } from 'node:http';
import { forward as forwardTo, reply, startProxyServer, type Answer } from './forward.ts';

export type DynamoFault = 'pass' | 'between' | 'after';

/** Failed answers in a row for `between`: the SDK's three attempts. */
const FAILURES_IN_A_ROW = 3;

export interface DynamoProxy {
  url: string;
  fault: DynamoFault;
  /** Counter ADDs failed so far. */
  injected: number;
  /** Calls that went through the proxy, to tell it is in the handlers' path. */
  calls: number;
  close(): Promise<void>;
}

const SERVER_ERROR: Answer = {
  status: 500,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: Buffer.from(
    JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'chaos' }),
  ),
};

export async function startDynamoProxy(targetUrl: string): Promise<DynamoProxy> {
  const target = new URL(targetUrl);
  let failingInARow = 0;
  let retryPasses = false;

  const forward = (req: IncomingMessage, body: Buffer) => forwardTo(target, req, body);

  const isCounterAdd = (req: IncomingMessage, raw: Buffer): boolean => {
    if (!String(req.headers['x-amz-target'] ?? '').endsWith('.UpdateItem')) return false;
    const json = JSON.parse(raw.toString()) as { Key?: { sk?: { S?: string } }; UpdateExpression?: string };
    return (json.Key?.sk?.S ?? '').startsWith('batch#') && /\bADD\b/.test(json.UpdateExpression ?? '');
  };

  const handle = async (req: IncomingMessage, raw: Buffer): Promise<Answer> => {
    proxy.calls++;
    if (proxy.fault === 'pass' || !isCounterAdd(req, raw)) return forward(req, raw);
    if (proxy.fault === 'between') {
      failingInARow = (failingInARow + 1) % (FAILURES_IN_A_ROW + 1);
      if (failingInARow === 0) return forward(req, raw);
      proxy.injected++;
      return SERVER_ERROR;
    }
    const applied = await forward(req, raw);
    // Every other ADD: the one applied and answered with an error, then its retry, answered.
    retryPasses = !retryPasses;
    if (applied.status !== 200 || !retryPasses) return applied;
    proxy.injected++;
    return SERVER_ERROR;
  };

  const server = await startProxyServer(async (req, res, body) => reply(res, await handle(req, body)));
  const proxy: DynamoProxy = { url: server.url, fault: 'pass', injected: 0, calls: 0, close: server.close };
  return proxy;
}
