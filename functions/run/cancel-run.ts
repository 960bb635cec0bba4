/**
 * Cancel a run, in two steps around dispatch (the only signer, DESIGN.md section 9):
 * `mark` records the run as cancelled and lists the dispatched batches; dispatch then sends each
 * of them a signed `cancel` (agents stop the command, or never start it); `settle` gives up on
 * hosts that never acknowledged and releases the acknowledgement wait, so the run closes its batch
 * and finishes with the results the cancelled commands report.
 */
import { z } from 'zod';
import type { RunStatus } from '#shared/runs-table.ts';
import { CANCEL_OUTCOMES, RunNotFound } from '#shared/run-errors.ts';
import type { RunStore } from '#shared/stores/runs-store.ts';
import type { ReplyLedger } from './reply-ledger.ts';

export const cancelInputSchema = z.discriminatedUnion('phase', [
  z.object({ phase: z.literal('mark'), runId: z.string().min(1), caller: z.string().default('unknown') }),
  z.object({
    phase: z.literal('settle'),
    runId: z.string().min(1),
    batches: z.array(z.number().int().min(0)),
  }),
]);

export { RunNotFound } from '#shared/run-errors.ts';

export interface CancelDeps {
  runs: RunStore;
  ledger: ReplyLedger;
}

export interface MarkOutcome {
  runId: string;
  /** `cancelled`, or the status the run had already finished with. */
  status: RunStatus;
  /** Batches whose hosts must be told to stop (empty when the run was not running). */
  batches: number[];
}

export interface CancelOutcome {
  runId: string;
  status: RunStatus;
  /** Hosts told to stop a command they had acknowledged. */
  stopping: number;
  /** Hosts given up on before they acknowledged. */
  abandoned: number;
}

export async function markCancelled(runId: string, caller: string, deps: CancelDeps): Promise<MarkOutcome> {
  const meta = await deps.runs.getMeta(runId);
  if (!meta) throw new RunNotFound(`no run ${runId}`);
  if (meta.status !== 'running') return { runId, status: meta.status, batches: [] };
  await deps.runs.updateMeta(runId, { status: CANCEL_OUTCOMES.cancelled, error: `cancelled by ${caller}` });
  const batches: number[] = [];
  for (let batch = 0; batch < meta.batchCount; batch++) {
    if ((await deps.runs.getBatch(runId, batch))?.dispatchedAt !== undefined) batches.push(batch);
  }
  return { runId, status: CANCEL_OUTCOMES.cancelled, batches };
}

export async function settleCancelled(
  runId: string,
  batches: readonly number[],
  deps: CancelDeps,
): Promise<CancelOutcome> {
  const meta = await deps.runs.getMeta(runId);
  if (!meta) throw new RunNotFound(`no run ${runId}`);
  let stopping = 0;
  let abandoned = 0;
  for (const batch of batches) {
    for (const node of await deps.runs.queryNodes(runId, { batch })) {
      if (node.status === 'acked') stopping++;
      else if (
        node.status === 'pending' &&
        (await deps.runs.closeNode(node.runId, node.nodeId, 'pending', 'cancelled'))
      ) {
        abandoned++;
      }
    }
    await deps.ledger.releaseWait(runId, batch, 'acks');
  }
  return { runId, status: meta.status, stopping, abandoned };
}

export async function cancelStep(input: unknown, deps: CancelDeps): Promise<MarkOutcome | CancelOutcome> {
  const step = cancelInputSchema.parse(input);
  return step.phase === 'mark'
    ? markCancelled(step.runId, step.caller, deps)
    : settleCancelled(step.runId, step.batches, deps);
}
