/**
 * What the chaos proxies share: passing one request on to the emulator behind them, whole, and
 * writing an answer back. Each proxy decides what to do around it (fail, repeat, drop).
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';

/** An emulator's answer, read whole so a proxy may replace or repeat it. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends `req` (its method, path and headers) with `body` to `target`; resolves with the answer. */
export function forward(target: URL, req: IncomingMessage, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'content-length': String(body.length) },
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
