/**
 * An HTTP proxy on 127.0.0.1 in front of an emulator that can be told to misbehave the way AWS
 * endpoints do: answer with throttling errors, or reset connections, for chosen API calls.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { forward, reply, startProxyServer } from '../../chaos/forward.ts';

export type Fault = 'none' | 'throttle' | 'reset';

export interface FlakyProxy {
  url: string;
  /** Calls (by X-Amz-Target, e.g. `AmazonSQS.ReceiveMessage`) that got a fault so far. */
  faults: string[];
  /** TCP connections clients opened to the proxy so far. */
  connections(): number;
  /** Misbehave for calls whose target contains `target` (all calls when omitted). */
  fail(fault: Fault, target?: string): void;
  close(): Promise<void>;
}

const THROTTLED = JSON.stringify({ __type: 'com.amazonaws.sqs#RequestThrottled', message: 'Rate exceeded' });

export async function startFlakyProxy(targetUrl: string): Promise<FlakyProxy> {
  const target = new URL(targetUrl);
  let fault: Fault = 'none';
  let only: string | undefined;
  const faults: string[] = [];

  const pass = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    // A client that gives up (an agent stopping mid long poll) abandons the emulator call too, so
    // no message is received for nobody.
    const abandoned = new AbortController();
    res.on('close', () => abandoned.abort());
    reply(res, await forward(target, req, body, abandoned.signal));
  };

  const server = await startProxyServer((req, res, body) => {
    const call = String(req.headers['x-amz-target'] ?? '');
    const affected = fault !== 'none' && (only === undefined || call.includes(only));
    if (!affected) return pass(req, res, body);
    faults.push(call);
    if (fault === 'reset') return void req.socket.destroy();
    res.writeHead(400, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-error': 'RequestThrottled;Sender',
    });
    res.end(THROTTLED);
  });
  return {
    url: server.url,
    faults,
    connections: server.connections,
    fail(next, call) {
      fault = next;
      only = call;
    },
    close: server.close,
  };
}
