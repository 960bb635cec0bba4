/**
 * Whether a run's counts agree with its hosts: the summary Finish stored against the node items,
 * and a `--json` document's summary against the hosts it lists.
 */
import type { NodeRunItem, RunMetaItem } from '#shared/runs-table.ts';
import type { RunDocument } from './harness.ts';

const SUMMARY_STATUSES: Record<string, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  timedOut: 'timed_out',
  noResponse: 'no_response',
  rejected: 'rejected',
  unreachable: 'unreachable',
  skipped: 'skipped',
  cancelled: 'cancelled',
  late: 'late',
};

/**
 * Where the run's summary disagrees with its hosts. A host recorded `late` after Finish counted it
 * (`lateAfterSummary`, set by the ledger on a node Finish sealed) was counted as what the run had
 * given up on it as (`lateAs`), so it is compared as that.
 */
export function summaryProblem(meta: RunMetaItem, nodes: readonly NodeRunItem[]): string | undefined {
  const summary = meta.summary as unknown as Record<string, number> | undefined;
  if (!summary) return `no summary (status ${meta.status})`;
  const statusAtFinish = (n: NodeRunItem) =>
    n.status === 'late' && n.lateAfterSummary === true ? (n.lateAs ?? 'late') : n.status;
  const wrong = Object.entries(SUMMARY_STATUSES)
    .map(
      ([field, status]) =>
        [field, summary[field] ?? 0, nodes.filter((n) => statusAtFinish(n) === status).length] as const,
    )
    .filter(([, counted, listed]) => counted !== listed);
  if (summary.expected !== nodes.length) return `expected ${summary.expected}, ${nodes.length} hosts`;
  return wrong.length > 0 ? wrong.map(([f, c, l]) => `${f} ${c} but ${l} hosts`).join(', ') : undefined;
}

/** Where a `--json` document's summary disagrees with the hosts it lists. */
export function documentProblem(doc: RunDocument): string | undefined {
  if (!doc.summary) return 'no summary';
  const summary = doc.summary;
  const wrong = Object.entries(SUMMARY_STATUSES)
    .map(
      ([field, status]) =>
        [field, summary[field] ?? 0, doc.hosts.filter((h) => h.status === status).length] as const,
    )
    .filter(([, counted, listed]) => counted !== listed);
  if (summary.expected !== doc.hosts.length)
    return `expected ${summary.expected}, ${doc.hosts.length} hosts listed`;
  return wrong.length > 0 ? wrong.map(([f, c, l]) => `${f} ${c} but ${l} listed`).join(', ') : undefined;
}
