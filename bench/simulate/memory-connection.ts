/**
 * Connections between an HTTP client and an HTTP server of this process that are not sockets.
 * Node's HTTP server takes any Duplex as a connection (`server.emit('connection', stream)`) and an
 * `http.Agent`'s `createConnection` may return any Duplex, so the bytes are still real HTTP/1.1,
 * written and parsed by Node on both sides; only the kernel is left out.
 *
 * Why: the simulated fleet holds one long poll per host, as a real fleet does, and a long poll
 * holds its connection for up to 20 s. Over loopback TCP each poll costs four file descriptors in
 * this one process (fake agent → proxy, proxy's side, proxy → emulator, emulator's side): 10,000
 * hosts need 40,000, twice this machine's limit (`ulimit -n` 20,000), and 10,000 connects at once
 * overflow the listen backlog (511), which the SDK's 3 s connection timeout turns into failures.
 */
import { Agent } from 'node:http';
import type { Duplex } from 'node:stream';

// The connection classes live in shared/, since the local stack uses them too: its handlers reach
// the SQS emulator of their own process without a socket.
export { SocketLike, MemoryConnection, memoryConnectionPair } from '#shared/in-process-connections.ts';

/**
 * An HTTP agent whose connections are made by `connect` (no socket): keep-alive, one connection
 * per request in flight and every idle one kept for reuse (a long poll per host).
 */
export function memoryAgent(connect: () => Duplex): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });
  (agent as unknown as { createConnection: () => Duplex }).createConnection = connect;
  return agent;
}
