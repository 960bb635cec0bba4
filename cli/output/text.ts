/**
 * The text output of `drover run`, in the shape of its lineage (EC2_Collective / MCollective):
 * a block per host as results land, then the summary and the hosts that did not answer.
 */
import pc from 'picocolors';
import type { NodeRunItem, RunSummary } from '#shared/runs-table.ts';
import { compareNames } from '#shared/name-order.ts';
import { visible } from './visible.ts';

export interface TextStyle {
  color: boolean;
}

const paint = (style: TextStyle, fn: (s: string) => string, s: string) => (style.color ? fn(s) : s);

function truncationNote(node: NodeRunItem, stream: 'stdout' | 'stderr'): string | undefined {
  const s = node[stream];
  if (!s?.truncated) return undefined;
  return `[${stream} truncated: ${s.bytes} bytes, first and last ${Math.floor(Buffer.byteLength(s.text) / 2)} or so kept]`;
}

/** The block printed for one host, or undefined for hosts listed only in the summary. */
export function hostBlock(node: NodeRunItem, style: TextStyle): string | undefined {
  const name = visible(node.identity);
  switch (node.status) {
    case 'no_response':
    case 'skipped':
    case 'pending':
    case 'acked':
      return undefined;
    case 'rejected':
      return `${paint(style, pc.red, `>>>>>> ${name} rejected the request:`)}\n${visible(node.reason ?? '', 'lines')}\n`;
    case 'unreachable':
      return `${paint(style, pc.red, `>>>>>> ${name} could not be reached:`)}\n${visible(node.error ?? '', 'lines')}\n`;
    default: {
      // Hosts given up on without a result are listed in the summary instead.
      if ((node.status === 'timed_out' || node.status === 'cancelled') && node.resultAt === undefined)
        return undefined;
      const code = node.exitCode === null || node.exitCode === undefined ? '-' : String(node.exitCode);
      const ok = node.status === 'succeeded';
      const head = paint(style, ok ? pc.green : pc.red, `>>>>>> ${name} exit code: (${code}):`);
      const lines = [head];
      const stdout = visible(node.stdout?.text ?? '', 'lines');
      const stderr = visible(node.stderr?.text ?? '', 'lines');
      if (stdout) lines.push(stdout.replace(/\n$/, ''));
      if (stderr) lines.push(paint(style, pc.yellow, stderr.replace(/\n$/, '')));
      for (const note of [truncationNote(node, 'stdout'), truncationNote(node, 'stderr')]) {
        if (note) lines.push(paint(style, pc.dim, note));
      }
      const cancelled =
        node.status === 'cancelled' || (node.status === 'late' && node.lateAs === 'cancelled');
      if (node.timedOut) lines.push(paint(style, pc.red, '[killed: the command outlived its timeout]'));
      if (cancelled) lines.push(paint(style, pc.yellow, '[cancelled: the run was cancelled]'));
      if (node.status === 'late')
        lines.push(paint(style, pc.dim, '[late: arrived after the run gave up on this host]'));
      if (node.error && !node.timedOut && !cancelled)
        lines.push(paint(style, pc.red, `[${visible(node.error, 'lines')}]`));
      return lines.join('\n') + '\n';
    }
  }
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** A one-line histogram of durations, e.g. `▁▃█▂ 12–840 ms`. */
export function durationSparkline(durations: readonly number[], buckets = 16): string | undefined {
  if (durations.length < 2) return undefined;
  const min = Math.min(...durations);
  const max = Math.max(...durations);
  const width = Math.max(1, Math.ceil((max - min + 1) / buckets));
  const counts = new Array<number>(Math.ceil((max - min + 1) / width)).fill(0);
  for (const d of durations) counts[Math.floor((d - min) / width)]!++;
  const top = Math.max(...counts);
  const bars = counts
    .map((c) => (c === 0 ? ' ' : SPARKS[Math.min(7, Math.floor((c / top) * 7.999))]))
    .join('');
  return `${bars} ${min}–${max} ms`;
}

/** What the summary says besides the run's own records. */
export interface SummaryExtras {
  /** `--nodes` names that were not addressed: unknown, stale, or not matching the filter. */
  notFound?: readonly string[];
}

export function summaryText(
  summary: RunSummary,
  nodes: readonly NodeRunItem[],
  elapsedMs: number,
  style: TextStyle,
  extras: SummaryExtras = {},
): string {
  const responded = nodes.filter((n) => n.resultAt !== undefined).length;
  const lines = [
    '',
    `Got response from ${responded} out of ${summary.discovered}/${summary.expected} (discovered/expected) - exit code (${summary.exitCode})`,
  ];
  const list = (title: string, hosts: NodeRunItem[]) => {
    if (hosts.length === 0) return;
    lines.push('', paint(style, pc.red, title));
    for (const h of hosts.sort((a, b) => compareNames(a.identity, b.identity)))
      lines.push(`    ${visible(h.identity)}`);
  };
  list(
    'No response from:',
    nodes.filter((n) => n.status === 'no_response' || (n.status === 'late' && n.lateAs === 'no_response')),
  );
  list(
    'Timeout in response from:',
    nodes.filter((n) => n.status === 'timed_out' || (n.status === 'late' && n.lateAs === 'timed_out')),
  );
  list(
    'Skipped (the run stopped before their batch):',
    nodes.filter((n) => n.status === 'skipped'),
  );
  list(
    'Cancelled:',
    nodes.filter((n) => n.status === 'cancelled' || (n.status === 'late' && n.lateAs === 'cancelled')),
  );
  if (extras.notFound && extras.notFound.length > 0) {
    lines.push('', paint(style, pc.red, 'Not in the fleet (unknown or stale; nothing was sent):'));
    for (const name of [...extras.notFound].sort()) lines.push(`    ${visible(name)}`);
  }
  if (summary.stoppedEarly) lines.push('', paint(style, pc.yellow, summary.stoppedEarly));
  lines.push('', `Finished processing ${responded} / ${summary.expected} hosts in ${elapsedMs} ms`);
  const durations = nodes
    .filter((n) => n.startedAt !== undefined && n.endedAt !== undefined)
    .map((n) => n.endedAt! - n.startedAt!);
  const spark = durationSparkline(durations);
  if (summary.durationMs) {
    lines.push(
      `Command durations: p50 ${summary.durationMs.p50} ms, p95 ${summary.durationMs.p95} ms, max ${summary.durationMs.max} ms`,
    );
  }
  if (spark) lines.push(`  ${spark}`);
  return lines.join('\n') + '\n';
}
