/**
 * What the fault proxies share (these of the chaos suite, and those of the tests): listening on
 * 127.0.0.1 with each request read whole, passing a request on to the emulator behind them, and
 * writing an answer back. Each proxy decides what to do around it (fail, repeat, drop).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** An emulator's answer, read whole so a proxy may replace or repeat it. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends `req` (its method, path and headers) with `body` to `target`; resolves with the answer.
 * `signal` abandons the call (a long poll whose client went away must not take messages).
 */
export function forward(
  target: URL,
  req: IncomingMessage,
  body: Buffer,
  signal?: AbortSignal,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'content-length': String(body.length) },
        ...(signal ? { signal } : {}),
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () =>
          resolve({
            status: answer.statusCode ?? 502,
            headers: answer.headers as Record<string, string>,
            body: Buffer.concat(chunks),
          }),
        );
        answer.on('error', reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

/** Writes `answer` to the proxy's client. */
export function reply(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
  res.end(answer.body);
}

export interface ProxyServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** TCP connections clients opened so far. */
  connections(): number;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

/**
 * Listens on a free port of 127.0.0.1 and hands `handle` each request with its body read whole.
 * A handler that throws or rejects has its connection destroyed, as a failing endpoint would.
 */
export async function startProxyServer(
  handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void | Promise<void>,
): Promise<ProxyServer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Promise.resolve()
        .then(() => handle(req, res, Buffer.concat(chunks)))
        .catch(() => res.destroy());
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
