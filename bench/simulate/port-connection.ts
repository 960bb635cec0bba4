/**
 * Many socket-like connections carried over one MessagePort between two threads of this process:
 * the simulated fleet runs in a worker thread (its SDK work on the other core) and reaches the
 * SQS emulator on the main thread without a socket per long poll (memory-connection.ts says why).
 * Each side keeps the connections by id; the side that calls `connect()` opens them.
 */
import type { MessagePort } from 'node:worker_threads';
import { SocketLike } from './memory-connection.ts';

interface Frame {
  id: number;
  data?: Uint8Array;
  signal?: 'open' | 'end' | 'close';
}

/** One connection of a link. */
export class PortConnection extends SocketLike {
  constructor(
    readonly id: number,
    private readonly link: PortLink,
  ) {
    super();
  }

  protected transmit(chunk: Buffer): boolean {
    return this.link.send(this.id, chunk);
  }

  protected signal(what: 'end' | 'close'): void {
    this.link.signal(this.id, what);
  }
}

/** One side of a MessagePort carrying connections; `onOpen` receives those the other side opens. */
export class PortLink {
  readonly #open = new Map<number, PortConnection>();
  #next = 1;

  constructor(
    private readonly port: MessagePort,
    private readonly onOpen: (connection: PortConnection) => void = () => {},
  ) {
    port.on('message', (frame: Frame) => this.#receive(frame));
  }

  /** Connections open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Opens a connection to the other side. */
  connect(): PortConnection {
    const connection = new PortConnection(this.#next++, this);
    this.#open.set(connection.id, connection);
    this.port.postMessage({ id: connection.id, signal: 'open' } satisfies Frame);
    return connection;
  }

  send(id: number, chunk: Buffer): boolean {
    if (!this.#open.has(id)) return false;
    // A copy of just these bytes, handed over (a Buffer's view may share an 8 KB pool).
    const data = new Uint8Array(chunk);
    this.port.postMessage({ id, data } satisfies Frame, [data.buffer]);
    return true;
  }

  signal(id: number, what: 'end' | 'close'): void {
    if (!this.#open.has(id)) return;
    if (what === 'close') this.#open.delete(id);
    this.port.postMessage({ id, signal: what } satisfies Frame);
  }

  /** Closes every connection and stops listening. */
  close(): void {
    for (const connection of [...this.#open.values()]) connection.destroy();
    this.port.close();
  }

  #receive({ id, data, signal }: Frame): void {
    if (signal === 'open') {
      const connection = new PortConnection(id, this);
      this.#open.set(id, connection);
      this.onOpen(connection);
      return;
    }
    const connection = this.#open.get(id);
    if (!connection) return;
    if (data) connection.receive(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else if (signal === 'close') {
      this.#open.delete(id);
      connection.remoteClosed('close');
    } else if (signal === 'end') connection.remoteClosed('end');
  }
}
