/**
 * Follows a run while it executes: yields each host the moment its outcome is recorded, then the
 * final record once the execution has ended.
 *
 * A watcher's cost does not grow with the run's size: each poll reads the run's meta item and the
 * keys of the hosts whose result landed since the last poll (the runs table's sparse results
 * index), then only those hosts' items. Many operators watching big runs at once must leave the
 * control plane free to record the replies they are waiting for.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { RunReader } from '#shared/stores/runs-reads.ts';
import { TERMINAL_NODE_STATUSES, type NodeRunItem, type RunMetaItem } from '#shared/runs-table.ts';
import { awsErrorName } from '#shared/aws.ts';
import { compareNames } from '#shared/name-order.ts';
import type { StackConnection } from './stack.ts';
import { nextPause } from './watch-pace.ts';

export interface ExecutionOutcome {
  status: string;
  error?: string;
  cause?: string;
}

export type WatchEvent =
  | { type: 'host'; node: NodeRunItem }
  | { type: 'progress'; answered: number; expected: number }
  | {
      type: 'done';
      meta: RunMetaItem | undefined;
      execution: ExecutionOutcome;
      /** Every host of the run as recorded once it ended (without output): final statuses. */
      nodes: NodeRunItem[];
    };

/**
 * The index is eventually consistent, so a host may show up in it a little after a later one: a
 * poll reads from the latest landing seen on, and once every SWEEP_EVERY_MS from INDEX_LAG_MS
 * before it (anything still missing is read at the end, when the run is read whole).
 */
const INDEX_LAG_MS = 1_000;
const SWEEP_EVERY_MS = 1_000;

export interface WatchOptions {
  pollMs?: number;
  /** How often a poll also reads the index's lag window again; SWEEP_EVERY_MS by default. */
  sweepEveryMs?: number;
}

/**
 * DescribeExecution at most this often while the run's record says it is running (Step Functions
 * throttles it per account): it catches an execution that ended without finishing its record.
 */
const DESCRIBE_EVERY_MS = 1_000;

/**
 * The order hosts are printed in: as their results were recorded, hosts without a result (given
 * up on) after them, ties by identity. `drover show` uses it to print a run as `run` did.
 */
export function byLanding(a: NodeRunItem, b: NodeRunItem): number {
  const at = (n: NodeRunItem) => n.resultAt ?? Number.MAX_SAFE_INTEGER;
  return at(a) - at(b) || compareNames(a.identity, b.identity);
}

export async function* watchRun(
  conn: StackConnection,
  runId: string,
  executionArn: string,
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent> {
  const pollMs = options.pollMs ?? 100;
  const landings = new LandingReader(conn, runId, options.sweepEveryMs ?? SWEEP_EVERY_MS);
  const runs = new RunReader(conn.db, conn.runsTable);
  let describedAt = 0;
  let pauseMs = pollMs;
  const watchedFrom = Date.now();
  for (;;) {
    const meta = await runs.getMeta(runId);
    const recordDone = meta !== undefined && meta.status !== 'running';
    const describe = recordDone || Date.now() - describedAt >= DESCRIBE_EVERY_MS;
    if (describe) describedAt = Date.now();
    // Every host in: nothing more can land (the read at the end takes any late change), and the
    // run's end is a few writes away.
    const allIn = meta?.expected !== undefined && landings.seen.size >= meta.expected;
    // Independent reads go together: each one waited for is a round trip added to the run.
    const [execution, landed] = await Promise.all([
      describe ? describeExecution(conn, executionArn) : undefined,
      allIn ? [] : landings.next(),
    ]);
    for (const node of landed) yield { type: 'host', node };
    pauseMs = nextPause({
      pollMs,
      lastPauseMs: pauseMs,
      landed: landed.length,
      allIn: meta?.expected !== undefined && landings.seen.size >= meta.expected,
      watchedMs: Date.now() - watchedFrom,
    });
    yield { type: 'progress', answered: landings.seen.size, expected: meta?.expected ?? 0 };
    if (execution && execution.status !== 'RUNNING') {
      yield* finalRead(runs, landings, runId, execution);
      return;
    }
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

async function describeExecution(conn: StackConnection, executionArn: string): Promise<ExecutionOutcome> {
  const out = await conn.sfn.send(new DescribeExecutionCommand({ executionArn }));
  return { status: out.status ?? 'UNKNOWN', error: out.error, cause: out.cause };
}

/**
 * The whole run once, consistently, after its execution ended: hosts given up on (they land in no
 * index), any the index had not shown yet, every host's final status, and the record as it ended.
 */
async function* finalRead(
  runs: RunReader,
  landings: LandingReader,
  runId: string,
  execution: ExecutionOutcome,
): AsyncGenerator<WatchEvent> {
  const [nodes, meta] = await Promise.all([runs.queryNodes(runId), runs.getMeta(runId)]);
  for (const node of await landings.fetch(nodes.filter((n) => !landings.seen.has(n.nodeId))))
    yield { type: 'host', node };
  yield { type: 'done', meta, execution, nodes };
}

/** The hosts of a run that landed since the last call, read through the results index. */
class LandingReader {
  readonly seen = new Set<string>();
  /** The latest `resultAt` seen, and when the lag window before it was last read again. */
  #latest = 0;
  #sweptAt = 0;
  /** False once the index turned out to be missing (a table created before it): read whole. */
  #indexed = true;
  readonly #runs: RunReader;

  constructor(
    conn: StackConnection,
    private readonly runId: string,
    private readonly sweepEveryMs: number,
  ) {
    this.#runs = new RunReader(conn.db, conn.runsTable);
  }

  /** Hosts with an outcome not yielded yet, in landing order, with their output. */
  async next(): Promise<NodeRunItem[]> {
    if (!this.#indexed) {
      return this.fetch((await this.#runs.queryNodes(this.runId)).filter((n) => !this.seen.has(n.nodeId)));
    }
    let landed;
    const sweep = Date.now() - this.#sweptAt >= this.sweepEveryMs;
    if (sweep) this.#sweptAt = Date.now();
    try {
      landed = await this.#runs.landedSince(
        this.runId,
        sweep ? Math.max(0, this.#latest - INDEX_LAG_MS) : this.#latest,
      );
    } catch (error: unknown) {
      if (
        awsErrorName(error) !== 'ValidationException' &&
        awsErrorName(error) !== 'ResourceNotFoundException'
      )
        throw error;
      this.#indexed = false;
      return this.next();
    }
    this.#latest = Math.max(this.#latest, ...landed.map((k) => k.resultAt));
    return this.fetch(landed.filter((k) => !this.seen.has(k.nodeId)));
  }

  /**
   * The full items (with output) of the hosts given, those with an outcome, marked seen. `pk`
   * (or a node item's `runId`): the partition each host's item is in, its group's.
   */
  async fetch(hosts: readonly ({ nodeId: string; pk: string } | NodeRunItem)[]): Promise<NodeRunItem[]> {
    if (hosts.length === 0) return [];
    const byPartition = new Map<string, Set<string>>();
    for (const host of hosts) {
      const pk = 'pk' in host ? host.pk : host.runId;
      byPartition.set(pk, (byPartition.get(pk) ?? new Set()).add(host.nodeId));
    }
    const read = await Promise.all([...byPartition].map(([pk, ids]) => this.#runs.getNodes(pk, [...ids])));
    const full = read.flat().filter((n) => TERMINAL_NODE_STATUSES.has(n.status) && !this.seen.has(n.nodeId));
    for (const node of full) this.seen.add(node.nodeId);
    return full.sort(byLanding);
  }
}
