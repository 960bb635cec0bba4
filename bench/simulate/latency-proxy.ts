/**
 * A delaying proxy in front of one loopback emulator: every AWS call through it waits the
 * profile's latency for its operation (from the X-Amz-Target header of the JSON protocols SQS and
 * DynamoDB use), then is forwarded unchanged. It counts calls per operation and the request and
 * response bytes, from which the DynamoDB capacity units of a run are worked out.
 */
import {
  createServer,
  type Agent,
  request as httpRequest,
  type IncomingMessage,
  type Server,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { memoryAgent, memoryConnectionPair } from './memory-connection.ts';

export interface OperationLatency {
  ms: number;
  estimate?: boolean;
}
export type ServiceProfile = Record<string, OperationLatency | string>;

export interface CallRecord {
  calls: number;
  requestBytes: number;
  responseBytes: number;
  /** Capacity units the responses reported (DynamoDB, when ReturnConsumedCapacity was asked). */
  capacity: number;
}

export interface ProxyOptions {
  /**
   * Hands the proxy's upstream connections to the emulator in this process (no socket): a
   * simulated fleet's long polls would otherwise take a file descriptor each (memory-connection.ts).
   */
  acceptUpstream?: (connection: Duplex) => void;
}

/**
 * Calls counted per operation, and the calls in flight: what the proxy counts of the handlers' calls
 * and the simulated fleet's SDK handler (delaying-handler.ts) of the fake agents'.
 */
export class CallCounts {
  readonly counts = new Map<string, CallRecord>();
  /** Calls received and not yet answered, per operation (a long poll is in flight while it waits). */
  readonly inFlight = new Map<string, number>();

  /** Counts a call of `operation` as begun; returns its record, for the response's bytes. */
  protected begin(operation: string, requestBytes: number): CallRecord {
    const record = this.#record(operation);
    record.calls += 1;
    record.requestBytes += requestBytes;
    this.inFlight.set(operation, (this.inFlight.get(operation) ?? 0) + 1);
    return record;
  }

  /** Counts a call of `operation` as answered (or abandoned). */
  protected end(operation: string): void {
    this.inFlight.set(operation, this.inFlight.get(operation)! - 1);
  }

  /** Calls per operation since the last reset. */
  snapshot(): Record<string, CallRecord> {
    return Object.fromEntries([...this.counts].map(([op, r]) => [op, { ...r }]));
  }

  /**
   * Starts counting afresh. Calls in flight count in the new period: a long poll open when the
   * run starts is one of the run's receives (the one that takes its request, or an empty one).
   */
  reset(): void {
    this.counts.clear();
    for (const [operation, open] of this.inFlight) if (open > 0) this.#record(operation).calls = open;
  }

  #record(operation: string): CallRecord {
    let record = this.counts.get(operation);
    if (!record) {
      record = { calls: 0, requestBytes: 0, responseBytes: 0, capacity: 0 };
      this.counts.set(operation, record);
    }
    return record;
  }
}

export class LatencyProxy extends CallCounts {
  #server: Server | undefined;
  readonly #agent: Agent | undefined;
  url = '';

  constructor(
    private readonly target: string,
    private readonly profile: ServiceProfile,
    /** Multiplies every delay (0: count calls without delaying them). */
    private readonly scale = 1,
    options: ProxyOptions = {},
  ) {
    super();
    const accept = options.acceptUpstream;
    // One connection per call in flight, kept for the next: as many as there are long polls.
    this.#agent = accept
      ? memoryAgent(() => {
          const [client, server] = memoryConnectionPair();
          accept(server);
          return client;
        })
      : undefined;
  }

  /** A connection into the proxy made in this process, no socket (an http.Agent's createConnection). */
  connect(): Duplex {
    if (!this.#server) throw new Error('LatencyProxy: start() it before connecting');
    const [client, server] = memoryConnectionPair();
    this.#server.emit('connection', server);
    return client;
  }

  delayOf(operation: string): number {
    return profileDelay(this.profile, operation, this.scale);
  }

  async start(): Promise<string> {
    const target = new URL(this.target);
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const operation = operationOf(req);
        const record = this.begin(operation, body.length);
        res.on('close', () => this.end(operation));
        setTimeout(() => {
          const upstream = httpRequest(
            {
              host: target.hostname,
              port: target.port,
              method: req.method,
              path: req.url,
              headers: req.headers,
              ...(this.#agent ? { agent: this.#agent } : {}),
            },
            (answer) => {
              const parts: Buffer[] = [];
              answer.on('data', (chunk: Buffer) => parts.push(chunk));
              answer.on('end', () => {
                const payload = Buffer.concat(parts);
                record.responseBytes += payload.length;
                res.writeHead(answer.statusCode ?? 500, answer.headers);
                res.end(payload);
              });
            },
          );
          upstream.on('error', (error) => {
            if (res.headersSent || res.destroyed) return;
            res.writeHead(502);
            res.end(String(error));
          });
          upstream.end(body);
        }, this.delayOf(operation));
      });
    });
    this.#server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#agent?.destroy();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** `AmazonSQS.SendMessage` → `SendMessage`; the query protocol's `Action=` as a fallback. */
export function operationOf(req: Pick<IncomingMessage, 'headers' | 'url'>): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.')) return target.slice(target.lastIndexOf('.') + 1);
  const action = /[?&]Action=([A-Za-z]+)/.exec(req.url ?? '');
  return action?.[1] ?? 'unknown';
}

/** The profile's latency for an operation (its own, or the service's default), scaled, in ms. */
export function profileDelay(profile: ServiceProfile, operation: string, scale: number): number {
  const entry = profile[operation] ?? profile.default;
  return typeof entry === 'object' ? entry.ms * scale : 0;
}
