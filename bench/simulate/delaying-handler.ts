/**
 * The latency proxy's job done inside an SDK client: every call waits the profile's latency for
 * its operation, then goes out, and is counted (calls, request and response bytes, calls in
 * flight). The simulated fleet's calls take this path in its worker thread, straight to the
 * emulator, instead of a second HTTP hop through the proxy on the main thread: the same delay and
 * the same counts for a third of the CPU a long poll costs the main thread.
 */
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import type { HttpHandlerOptions, HttpRequest, HttpResponse } from '@smithy/types';
import { CallCounts } from './latency-proxy.ts';

export class DelayingHandler extends CallCounts {
  constructor(
    private readonly inner: NodeHttpHandler,
    /** The delay of an operation, in ms (the profile's, scaled). */
    private readonly delayOf: (operation: string) => number,
  ) {
    super();
  }

  async handle(request: HttpRequest, options: HttpHandlerOptions = {}): Promise<{ response: HttpResponse }> {
    const operation = operationOfRequest(request);
    const record = this.begin(operation, bodyBytes(request.body));
    try {
      await sleep(this.delayOf(operation), options.abortSignal as AbortSignal | undefined);
      const out = await this.inner.handle(request as Parameters<NodeHttpHandler['handle']>[0], options);
      record.responseBytes += Number(out.response.headers['content-length'] ?? 0);
      return out;
    } finally {
      this.end(operation);
    }
  }

  updateHttpClientConfig(...args: Parameters<NodeHttpHandler['updateHttpClientConfig']>): void {
    this.inner.updateHttpClientConfig(...args);
  }

  httpHandlerConfigs(): ReturnType<NodeHttpHandler['httpHandlerConfigs']> {
    return this.inner.httpHandlerConfigs();
  }

  destroy(): void {
    this.inner.destroy();
  }
}

/** `AmazonSQS.ReceiveMessage` → `ReceiveMessage`, from the request's X-Amz-Target. */
export function operationOfRequest(request: Pick<HttpRequest, 'headers'>): string {
  const entry = Object.entries(request.headers).find(([name]) => name.toLowerCase() === 'x-amz-target');
  const target = entry?.[1] ?? '';
  return target.includes('.') ? target.slice(target.lastIndexOf('.') + 1) : 'unknown';
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const abortError = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });

/** The size of a request body as the SDK hands it over: a string, or bytes. */
function bodyBytes(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  return body instanceof Uint8Array ? body.byteLength : 0;
}
