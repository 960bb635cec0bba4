/**
 * An HTTP proxy on 127.0.0.1 in front of the local DynamoDB that fails chosen calls the way the
 * service can: after applying them (the write is done, the answer is a 500, so the SDK retries a
 * write that already happened) or without applying them at all.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

/** `applied`: forwarded, then answered 500. `refused`: answered 500 without being forwarded. */
export type DynamoFault = 'applied' | 'refused';

export interface DynamoCall {
  /** The operation, e.g. `UpdateItem`. */
  operation: string;
  body: Record<string, unknown>;
}

export interface DynamoFaultProxy {
  url: string;
  /** Calls that were answered with a fault so far. */
  faults: DynamoCall[];
  /** Fails calls `matches` picks, `times` times in all (Infinity for always); replaces any rule. */
  fail(fault: DynamoFault, matches: (call: DynamoCall) => boolean, times?: number): void;
  close(): Promise<void>;
}

const INTERNAL_ERROR = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
  message: 'Internal server error',
});

export async function startDynamoFaultProxy(targetUrl: string): Promise<DynamoFaultProxy> {
  const target = new URL(targetUrl);
  let rule: { fault: DynamoFault; matches: (call: DynamoCall) => boolean; left: number } | undefined;
  const faults: DynamoCall[] = [];

  const answer500 = (res: ServerResponse) => {
    res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(INTERNAL_ERROR);
  };

  const forward = (
    req: IncomingMessage,
    body: Buffer,
    onAnswer: (status: number, h: object, b: Buffer) => void,
  ) => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => onAnswer(res.statusCode ?? 502, res.headers, Buffer.concat(chunks)));
      },
    );
    upstream.on('error', () => onAnswer(502, {}, Buffer.alloc(0)));
    upstream.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      let call: DynamoCall | undefined;
      try {
        call = { operation, body: JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown> };
      } catch {
        call = undefined;
      }
      const faulty = call && rule && rule.left > 0 && rule.matches(call) ? rule : undefined;
      if (faulty && call) {
        faulty.left--;
        faults.push(call);
        if (faulty.fault === 'refused') return answer500(res);
        return forward(req, body, () => answer500(res));
      }
      forward(req, body, (status, headers, answer) => {
        res.writeHead(status, headers as Record<string, string>);
        res.end(answer);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    faults,
    fail(fault, matches, times = 1) {
      rule = { fault, matches, left: times };
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** True for an UpdateItem on the item whose sort key starts with `skPrefix`. */
export function updateOf(skPrefix: string): (call: DynamoCall) => boolean {
  return ({ operation, body }) => {
    const key = body.Key as { sk?: { S?: string } } | undefined;
    return operation === 'UpdateItem' && (key?.sk?.S ?? '').startsWith(skPrefix);
  };
}
