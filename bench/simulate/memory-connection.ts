/**
 * The simulated fleet's in-memory connections: now in shared/memory-connection.ts, which the local
 * stack uses too (its handlers reach its own emulators without a socket).
 */
export {
  SocketLike,
  MemoryConnection,
  memoryConnectionPair,
  memoryAgent,
} from '#shared/memory-connection.ts';
