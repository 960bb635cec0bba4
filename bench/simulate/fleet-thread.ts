/**
 * Runs the simulated fleet in a worker thread (fleet-worker.ts) and serves its connections to the
 * SQS emulator on this thread. Measured at 5,000 hosts, the fleet's idle long polls cost 1.8 ms of
 * this thread's CPU each (SDK, the proxy's second HTTP hop, the emulator, garbage): 10,000 hosts
 * renewing a 20 s poll 500 times a second took a whole core, and Plan, on the same thread, ran
 * into its Task's 120 s timeout. In the worker, the fake agents' SDK work runs on the other core
 * and their calls skip the proxy (delayed and counted in the worker instead); this thread keeps
 * only the emulator's side of each call.
 */
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { CallRecord, ServiceProfile } from './latency-proxy.ts';
import type { AgentTimes, SimulatedFleet } from './fleet.ts';
import { PortLink } from './port-connection.ts';
import type { Duplex } from 'node:stream';

export interface FleetWorkerData {
  fleet: SimulatedFleet;
  repliesQueueUrl: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The SDK's endpoint; every connection goes over the port whatever the URL says. */
  endpoint: string;
  profile: ServiceProfile;
  latencyScale: number;
  port: MessagePort;
}

export type FleetWorkerMessage =
  | { type: 'inflight'; receives: number }
  | { type: 'reset' | 'snapshot' | 'stop'; counts: Record<string, CallRecord>; times: AgentTimes };

export interface FleetSnapshot {
  counts: Record<string, CallRecord>;
  times: AgentTimes;
}

export class FleetThread {
  /** The fleet's calls in flight, as the worker last reported them (for `pollsOpen`). */
  readonly inFlight = new Map<string, number>();
  readonly #worker: Worker;
  readonly #link: PortLink;
  #failure: Error | undefined;
  #waiting: ((message: FleetWorkerMessage | Error) => void) | undefined;

  constructor(options: Omit<FleetWorkerData, 'port'> & { accept: (connection: Duplex) => void }) {
    const { accept, ...data } = options;
    const channel = new MessageChannel();
    this.#link = new PortLink(channel.port1, accept);
    this.#worker = new Worker(new URL('./fleet-worker.mjs', import.meta.url), {
      workerData: { ...data, port: channel.port2 } satisfies FleetWorkerData,
      transferList: [channel.port2],
    });
    this.#worker.on('message', (message: FleetWorkerMessage) => {
      if (message.type === 'inflight') this.inFlight.set('ReceiveMessage', message.receives);
      else this.#answer(message);
    });
    this.#worker.on('error', (error) => {
      this.#failure = new Error(`simulated fleet thread: ${error.message}`, { cause: error });
      this.#answer(this.#failure);
    });
  }

  /** Starts counting the fleet's calls afresh (calls in flight count in the new period). */
  reset(): Promise<FleetSnapshot> {
    return this.#ask('reset');
  }

  /** The fleet's calls since the last reset, and when it acknowledged. */
  snapshot(): Promise<FleetSnapshot> {
    return this.#ask('snapshot');
  }

  /** Ends every poll, then the thread; the last counts. */
  async stop(): Promise<FleetSnapshot | undefined> {
    try {
      return this.#failure ? undefined : await this.#ask('stop');
    } finally {
      this.#link.close();
      await this.#worker.terminate();
    }
  }

  #ask(type: 'reset' | 'snapshot' | 'stop'): Promise<FleetSnapshot> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#waiting) return Promise.reject(new Error('FleetThread: one request at a time'));
    return new Promise((resolve, reject) => {
      this.#waiting = (message) => {
        if (message instanceof Error) reject(message);
        else if (message.type === 'inflight') return;
        else resolve({ counts: message.counts, times: message.times });
      };
      this.#worker.postMessage({ type });
    });
  }

  #answer(message: FleetWorkerMessage | Error): void {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(message);
  }
}

/** Counts of two sources added up, per operation (the proxy's and the fleet thread's). */
export function mergeCounts(
  a: Record<string, CallRecord>,
  b: Record<string, CallRecord>,
): Record<string, CallRecord> {
  const out: Record<string, CallRecord> = {};
  for (const source of [a, b]) {
    for (const [op, r] of Object.entries(source)) {
      const sum = (out[op] ??= { calls: 0, requestBytes: 0, responseBytes: 0, capacity: 0 });
      sum.calls += r.calls;
      sum.requestBytes += r.requestBytes;
      sum.responseBytes += r.responseBytes;
      sum.capacity += r.capacity;
    }
  }
  return out;
}
