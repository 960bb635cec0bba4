/**
 * Two connected in-memory streams standing in for the two ends of a TCP connection between an
 * HTTP client and an HTTP server of this process. Node's HTTP server takes any Duplex as a
 * connection (`server.emit('connection', stream)`) and an `http.Agent`'s `createConnection` may
 * return any Duplex, so the bytes are still real HTTP/1.1, written and parsed by Node on both
 * sides; only the kernel is left out.
 *
 * Why: the simulated fleet holds one long poll per host, as a real fleet does, and a long poll
 * holds its connection for up to 20 s. Over loopback TCP each poll costs four file descriptors in
 * this one process (fake agent → proxy, proxy's side, proxy → emulator, emulator's side): 10,000
 * hosts need 40,000, twice this machine's limit (`ulimit -n` 20,000), and 10,000 connects at once
 * overflow the listen backlog (511), which the SDK's 3 s connection timeout turns into failures.
 */
import { Agent } from 'node:http';
import { Duplex } from 'node:stream';

/** One end: what it writes is read at the other end; ending or destroying one ends the other. */
export class MemoryConnection extends Duplex {
  peer: MemoryConnection | undefined;
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

  override _read(): void {
    // Data is pushed by the peer's writes; nothing to pull.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed) {
      done(Object.assign(new Error('write after the peer closed'), { code: 'ECONNRESET' }));
      return;
    }
    peer.push(chunk);
    done();
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    done: (error?: Error | null) => void,
  ): void {
    this._write(Buffer.concat(chunks.map((c) => c.chunk)), 'latin1', done);
  }

  override _final(done: (error?: Error | null) => void): void {
    // Our end of writing is the peer's end of reading.
    if (this.peer && !this.peer.destroyed) this.peer.push(null);
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = undefined;
    if (peer && !peer.destroyed) {
      peer.peer = undefined;
      // The other side sees the connection closed, as with a TCP reset or close.
      peer.push(null);
      peer.destroy();
    }
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

/** A connected pair: `[client, server]`. */
export function memoryConnectionPair(): [MemoryConnection, MemoryConnection] {
  const client = new MemoryConnection();
  const server = new MemoryConnection();
  client.peer = server;
  server.peer = client;
  return [client, server];
}

/**
 * An HTTP agent whose connections are made by `connect` (in this process): keep-alive, one
 * connection per request in flight and every idle one kept for reuse (a long poll per host).
 */
export function memoryAgent(connect: () => Duplex): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });
  (agent as unknown as { createConnection: () => Duplex }).createConnection = connect;
  return agent;
}
