/**
 * How `drover ping` prints: each host that answered with its round-trip time as it lands, then
 * statistics and a latency sparkline, MCollective's `mco ping` shape.
 *
 * Round-trip time = when the control plane recorded the host's answer (the node item's
 * `resultAt`, stamped by ingest) minus when its batch was dispatched (`dispatchedAt`, stamped
 * just before the requests were sent): request delivery, the agent's long poll waking up, its
 * checks, and the reply's way back through the replies queue and ingest.
 */
import { RunReader } from '#shared/stores/runs-reads.ts';
import type { NodeRunItem, RunMetaItem } from '#shared/runs-table.ts';
import { compareNames } from '#shared/name-order.ts';
import { percentile } from './output/stats.ts';
import { durationSparkline } from './output/text.ts';
import type { PingJson } from './output/schemas.ts';
import type { HostProgress } from './output/progress.ts';
import type { CliIO } from './context.ts';
import { ProgressPrinter } from './run-session.ts';
import type { ExecutionOutcome } from './run-watcher.ts';
import { costOfRun, executionFailure, runElapsedMs } from './run-report.ts';
import { runCostText } from './cost/run-cost.ts';
import { costJson } from './output/json.ts';
import { CliError } from './errors.ts';
import { visible } from './output/visible.ts';
import type { ConnectedStack } from './stack.ts';
import pc from 'picocolors';

export interface PingReply {
  identity: string;
  nodeId: string;
  rttMs: number;
}

export interface PingStats {
  count: number;
  min: number;
  max: number;
  avg: number;
  p50: number;
  p95: number;
}

export function pingStats(rtts: readonly number[]): PingStats | null {
  if (rtts.length === 0) return null;
  const sorted = [...rtts].sort((a, b) => a - b);
  return {
    count: sorted.length,
    min: sorted[0]!,
    max: sorted.at(-1)!,
    avg: Math.round(sorted.reduce((sum, v) => sum + v, 0) / sorted.length),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
  };
}

/** `web-1                                    time=12 ms`. */
export const pingLine = (reply: PingReply): string =>
  `${visible(reply.identity).padEnd(40)} time=${reply.rttMs} ms`;

export function pingStatisticsText(
  stats: PingStats | null,
  nodes: readonly NodeRunItem[],
  color: boolean,
): string {
  const lines = ['', '', '---- ping statistics ----'];
  if (stats) {
    lines.push(
      `${stats.count} replies max: ${stats.max} ms min: ${stats.min} ms avg: ${stats.avg} ms p95: ${stats.p95} ms`,
    );
  } else {
    lines.push('0 replies');
  }
  const silent = nodes.filter((n) => n.status !== 'succeeded' && n.status !== 'rejected');
  const rejected = nodes.filter((n) => n.status === 'rejected');
  const title = (text: string) => (color ? pc.red(text) : text);
  if (silent.length > 0) {
    lines.push('', title('No response from:'));
    for (const n of [...silent].sort((a, b) => compareNames(a.identity, b.identity)))
      lines.push(`    ${visible(n.identity)}`);
  }
  if (rejected.length > 0) {
    lines.push('', title('Rejected by:'));
    for (const n of rejected) lines.push(`    ${visible(n.identity)}: ${visible(n.reason ?? '')}`);
  }
  return lines.join('\n') + '\n';
}

export class PingReport extends ProgressPrinter {
  readonly nodes: NodeRunItem[] = [];
  readonly replies: PingReply[] = [];
  readonly #dispatched = new Map<number, Promise<number | undefined>>();

  constructor(
    private readonly runId: string,
    io: CliIO,
    private readonly conn: ConnectedStack,
    private readonly options: { json: boolean; progress: HostProgress },
  ) {
    super(io, options.progress);
  }

  async host(node: NodeRunItem): Promise<void> {
    this.nodes.push(node);
    if (node.status !== 'succeeded' || node.resultAt === undefined) return;
    const dispatchedAt = await this.#dispatchedAt(node.batch);
    const reply = {
      identity: node.identity,
      nodeId: node.nodeId,
      rttMs: Math.max(0, node.resultAt - (dispatchedAt ?? node.resultAt)),
    };
    this.replies.push(reply);
    if (!this.options.json) this.bar.above(() => this.io.out(pingLine(reply) + '\n'));
  }

  finish(meta: RunMetaItem | undefined, execution: ExecutionOutcome | undefined): number {
    this.close();
    const failure = executionFailure(execution);
    if (failure && !meta?.summary) throw new CliError(`ping ${this.runId} was refused: ${failure}`);
    const exitCode = meta?.summary?.exitCode ?? 4;
    const stats = pingStats(this.replies.map((r) => r.rttMs));
    const cost = costOfRun(meta, this.nodes, runElapsedMs(meta, 0));
    if (this.options.json) {
      const doc: PingJson = {
        runId: this.runId,
        status: meta?.status ?? 'invalid',
        replies: [...this.replies].sort((a, b) => compareNames(a.identity, b.identity)),
        noResponse: this.nodes
          .filter((n) => n.status !== 'succeeded' && n.status !== 'rejected')
          .map((n) => n.identity)
          .sort(),
        rejected: this.nodes
          .filter((n) => n.status === 'rejected')
          .map((n) => ({ identity: n.identity, reason: n.reason ?? '' })),
        stats,
        exitCode,
        estimatedCost: costJson(cost),
      };
      this.io.out(JSON.stringify(doc, null, 2) + '\n');
    } else if (meta?.summary?.expected === 0) {
      this.io.err('No hosts matched the filter.\n');
    } else {
      let text = pingStatisticsText(stats, this.nodes, this.io.color);
      const spark = durationSparkline(this.replies.map((r) => r.rttMs));
      if (spark) text = text.replace(/(replies max: .*\n)/, `$1${spark}\n`);
      this.io.out(text + (cost ? `${runCostText(cost)}\n` : ''));
    }
    if (failure) this.io.err(`ping ${this.runId} ended with an error: ${failure}\n`);
    return exitCode;
  }

  #dispatchedAt(batch: number): Promise<number | undefined> {
    let found = this.#dispatched.get(batch);
    if (!found) {
      found = new RunReader(this.conn.db, this.conn.runsTable)
        .getBatch(this.runId, batch, false)
        .then((item) => item?.dispatchedAt);
      this.#dispatched.set(batch, found);
    }
    return found;
  }
}
