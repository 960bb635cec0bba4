/**
 * An HTTP proxy on 127.0.0.1 in front of an emulator that can be told to misbehave the way AWS
 * endpoints do: answer with throttling errors, or reset connections, for chosen API calls.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

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

export async function startFlakyProxy(targetUrl: string): Promise<FlakyProxy> {
  const target = new URL(targetUrl);
  let fault: Fault = 'none';
  let only: string | undefined;
  const faults: string[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const call = String(req.headers['x-amz-target'] ?? '');
      const affected = fault !== 'none' && (only === undefined || call.includes(only));
      if (!affected) return forward(req, res, Buffer.concat(chunks));
      faults.push(call);
      if (fault === 'reset') return req.socket.destroy();
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-query-error': 'RequestThrottled;Sender',
      });
      res.end(JSON.stringify({ __type: 'com.amazonaws.sqs#RequestThrottled', message: 'Rate exceeded' }));
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    connections: () => connections,
    fail(next, call) {
      fault = next;
      only = call;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
