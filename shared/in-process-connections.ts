/**
 * Connections to HTTP servers of this very process that are not sockets. Node's HTTP server takes
 * any Duplex as a connection (`server.emit('connection', stream)`) and an `http.Agent`'s
 * `createConnection` may return any Duplex, so the bytes are still real HTTP/1.1, written and
 * parsed by Node on both sides (the same requests, signatures and answers); only the kernel is left
 * out.
 *
 * Why: the local stack's handlers call the emulators running in the same process (Dispatch sends
 * one SQS message per host, ingest receives and deletes the replies): over loopback TCP each call
 * is two socket writes and two reads through the kernel, ~65 µs of a SendMessage's ~335 µs of CPU
 * (client and emulator) on the development VM. A server registered here with `serveInProcess` is
 * reached without a socket by every client built with `InProcessAwareAgent` (shared/aws.ts); any
 * other host and port, and every other process (agents, the CLI), still get TCP. The simulated
 * fleet (bench/simulate/) uses the same connections for its 10,000 long polls.
 */
import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * A Duplex that Node's HTTP client, Agent and server accept as a socket: what it writes goes to
 * `transmit`, what arrives is handed to `receive`; closing either side closes the other.
 */
export abstract class SocketLike extends Duplex {
  // What Node's HTTP client and server read from a socket they were handed.
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 0;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 0;
  readonly remoteFamily = 'IPv4';
  readonly encrypted = false;
  readonly connecting = false;

  constructor() {
    super({ allowHalfOpen: false });
  }

  /** Sends bytes to the other end; false once it is gone. */
  protected abstract transmit(chunk: Buffer): boolean;
  /** Tells the other end we stopped writing (`end`) or closed (`close`). */
  protected abstract signal(what: 'end' | 'close'): void;

  /** Bytes from the other end. */
  receive(chunk: Buffer): void {
    if (!this.destroyed) this.push(chunk);
  }

  /** The other end stopped writing, or closed: as a TCP FIN or reset. */
  remoteClosed(what: 'end' | 'close'): void {
    if (this.destroyed) return;
    this.push(null);
    if (what === 'close') this.destroy();
  }

  override _read(): void {
    // Data is pushed as it arrives; nothing to pull.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.transmit(chunk)) done();
    else done(Object.assign(new Error('write after the peer closed'), { code: 'ECONNRESET' }));
  }

  override _final(done: (error?: Error | null) => void): void {
    this.signal('end');
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.signal('close');
    done(error);
  }

  // Socket methods Node's HTTP client, Agent and server call; meaningless without a kernel socket.
  // Timeouts never fire: no idle connection is closed under a request about to reuse it.
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): { address: string; family: string; port: number } {
    return { address: '127.0.0.1', family: 'IPv4', port: 0 };
  }
}

/** One end of an in-memory connection within a thread. */
export class MemoryConnection extends SocketLike {
  peer: MemoryConnection | undefined;

  protected transmit(chunk: Buffer): boolean {
    const peer = this.peer;
    if (!peer || peer.destroyed) return false;
    peer.receive(chunk);
    return true;
  }

  protected signal(what: 'end' | 'close'): void {
    const peer = this.peer;
    if (what === 'close') this.peer = undefined;
    if (peer && !peer.destroyed) {
      if (what === 'close') peer.peer = undefined;
      peer.remoteClosed(what);
    }
  }
}

/** A connected pair: `[client, server]`. */
export function memoryConnectionPair(): [MemoryConnection, MemoryConnection] {
  const client = new MemoryConnection();
  const server = new MemoryConnection();
  client.peer = server;
  server.peer = client;
  return [client, server];
}

/** Servers of this process reachable without a socket, by `host:port`. */
const servers = new Map<string, (connection: Duplex) => void>();

const keyOf = (host: unknown, port: unknown): string => `${String(host)}:${String(port)}`;

/**
 * Serves connections made in this process to `url`'s host and port with `accept` (a server's
 * `emit('connection', …)`) instead of a socket; returns the function that stops it.
 */
export function serveInProcess(url: string, accept: (connection: Duplex) => void): () => void {
  const { hostname, port } = new URL(url);
  const key = keyOf(hostname, port);
  servers.set(key, accept);
  return () => {
    if (servers.get(key) === accept) servers.delete(key);
  };
}

/**
 * A keep-alive HTTP agent that connects to a server of this process without a socket when one is
 * registered for the request's host and port (`serveInProcess`), and over TCP otherwise.
 */
export class InProcessAwareAgent extends Agent {
  constructor(options: ConstructorParameters<typeof Agent>[0]) {
    super(options);
    const tcp = (this as unknown as { createConnection: ConnectionFactory }).createConnection.bind(this);
    (this as unknown as { createConnection: ConnectionFactory }).createConnection = (options, callback) => {
      const accept = servers.get(keyOf(options.host, options.port));
      if (accept === undefined) return tcp(options, callback);
      const [client, server] = memoryConnectionPair();
      accept(server);
      return client;
    };
  }
}

type ConnectionFactory = (
  options: { host?: string; port?: number | string },
  callback: (error: Error | null, socket?: Socket) => void,
) => Duplex | Socket | undefined;
