/**
 * Cancel a run: mark it cancelled, tell the hosts of dispatched batches to stop the command
 * (a signed `cancel` request, which also keeps a not-yet-started command from starting), give up on
 * hosts that never acknowledged, and release the acknowledgement wait so the run closes its batch
 * and finishes with the results the cancelled commands report.
 */
import { z } from 'zod';
import type { RequestSigner } from '#shared/signing.ts';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { RunStatus } from '#shared/runs-table.ts';
import type { RunStore } from './run-store.ts';
import type { ReplyLedger } from './reply-ledger.ts';
import { sendSigned } from './dispatch-batch.ts';

export const cancelInputSchema = z.object({
  runId: z.string().min(1),
  caller: z.string().default('unknown'),
});

export class RunNotFound extends Error {
  override name = 'RunNotFound';
}

export interface CancelDeps {
  runs: RunStore;
  ledger: ReplyLedger;
  sqs: SQSClient;
  signer: RequestSigner;
  now: () => number;
}

export interface CancelOutcome {
  runId: string;
  /** The run's status: `cancelled`, or the status it had already finished with. */
  status: RunStatus;
  /** Hosts told to stop a command they had acknowledged. */
  stopping: number;
  /** Hosts given up on before they acknowledged. */
  abandoned: number;
}

export async function cancelRun(input: unknown, deps: CancelDeps): Promise<CancelOutcome> {
  const { runId, caller } = cancelInputSchema.parse(input);
  const meta = await deps.runs.getMeta(runId);
  if (!meta) throw new RunNotFound(`no run ${runId}`);
  if (meta.status !== 'running') return { runId, status: meta.status, stopping: 0, abandoned: 0 };

  const now = deps.now();
  await deps.runs.updateMeta(runId, { status: 'cancelled', error: `cancelled by ${caller}` });
  const nodes = await deps.runs.queryNodes(runId);
  const dispatched = new Set<number>();
  for (const batch of new Set(nodes.map((n) => n.batch))) {
    if ((await deps.runs.getBatch(runId, batch))?.dispatchedAt !== undefined) dispatched.add(batch);
  }
  let stopping = 0;
  let abandoned = 0;
  for (const batch of dispatched) {
    const live = nodes.filter((n) => n.batch === batch && (n.status === 'pending' || n.status === 'acked'));
    await sendSigned(meta, batch, live, now, 'cancel', deps);
    for (const node of live) {
      if (node.status === 'acked') stopping++;
      else if (await deps.runs.closeNode(runId, node.nodeId, 'pending', 'cancelled')) abandoned++;
    }
    await deps.ledger.releaseWait(runId, batch, 'acks');
  }
  return { runId, status: 'cancelled', stopping, abandoned };
}
