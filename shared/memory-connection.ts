/**
 * Connections between an HTTP client and an HTTP server of this process that are not sockets.
 * Node's HTTP server takes any Duplex as a connection (`server.emit('connection', stream)`) and an
 * `http.Agent`'s `createConnection` may return any Duplex, so the bytes are still real HTTP/1.1,
 * written and parsed by Node on both sides; only the kernel is left out.
 *
 * Used by the local stack (shared/in-process-endpoints.ts: its handlers' calls to its own
 * emulators) and by `bench --simulate` (10,000 long polls, each holding a connection for up to
 * 20 s: over loopback TCP four file descriptors each in one process, twice this machine's limit).
 */
import { Agent } from 'node:http';
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

/**
 * An HTTP agent whose connections are made by `connect` (no socket): keep-alive, one connection
 * per request in flight and every idle one kept for reuse (a long poll per host).
 */
export function memoryAgent(connect: () => Duplex): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });
  (agent as unknown as { createConnection: () => Duplex }).createConnection = connect;
  return agent;
}
