/**
 * HTTP servers of this process that its own AWS clients reach without a socket. The local stack
 * runs its emulators and the handlers that call them in one process; over loopback TCP every such
 * call costs four system calls and the kernel's TCP work for both ends, all on the stack's one
 * thread (the local stack's queue at 1,000 agents). A client built by `shared/aws.ts` for an
 * endpoint registered here gets an in-memory connection instead (shared/memory-connection.ts):
 * the same HTTP/1.1 bytes, written and parsed by Node on both sides, the same server handler, the
 * same signature checks and sender records. Clients of other processes (agents, the CLI) and
 * clients pointed elsewhere (a test's fault-injecting proxy) still use TCP.
 */
import { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import { memoryConnectionPair } from './memory-connection.ts';

type Accept = (connection: Duplex) => void;

/**
 * On the global object: functions run from packaged bundles (`drover local` with lambdaBundles)
 * carry their own copy of this module, and must find the stack's servers too.
 */
const REGISTRY = Symbol.for('drover.inProcessEndpoints');
const servers: Map<string, Accept> = ((globalThis as Record<symbol, unknown>)[REGISTRY] ??= new Map<
  string,
  Accept
>()) as Map<string, Accept>;

/** `http://127.0.0.1:4566/` and `http://127.0.0.1:4566` are one endpoint; a path never matters. */
function originOf(endpoint: string): string | undefined {
  try {
    const url = new URL(endpoint);
    return url.protocol === 'http:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Serves `endpoint` (`http://127.0.0.1:PORT`) to this process's clients through `accept`, which
 * takes a connection as the server's own (`server.emit('connection', c)`). Returns the undo, for
 * when the server closes (its port may then be another server's).
 */
export function serveInProcess(endpoint: string, accept: Accept): () => void {
  const origin = originOf(endpoint);
  if (!origin) throw new Error(`not an http:// endpoint: ${endpoint}`);
  servers.set(origin, accept);
  return () => {
    if (servers.get(origin) === accept) servers.delete(origin);
  };
}

/**
 * An HTTP agent that reaches `endpoint` in memory when a server of this process serves it, else
 * undefined (the caller uses a socket). Keep-alive as a socket agent: a connection serves one
 * request at a time and is kept for the next.
 */
export function inProcessAgent(endpoint: string | undefined, maxSockets: number): Agent | undefined {
  const origin = endpoint === undefined ? undefined : originOf(endpoint);
  if (origin === undefined || !servers.has(origin)) return undefined;
  const agent = new Agent({ keepAlive: true, maxSockets });
  (agent as unknown as { createConnection: () => Duplex }).createConnection = () => {
    const [client, server] = memoryConnectionPair();
    // Looked up at each connect: a server that has closed since refuses, as its port would.
    const accept = servers.get(origin);
    if (accept) accept(server);
    else process.nextTick(() => client.destroy(refused(origin)));
    return client;
  };
  return agent;
}

function refused(origin: string): Error {
  return Object.assign(new Error(`connect ECONNREFUSED ${origin} (no longer served in this process)`), {
    code: 'ECONNREFUSED',
  });
}
