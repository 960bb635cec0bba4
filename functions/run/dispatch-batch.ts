/**
 * Dispatch: sign the batch's request once per group of targets and send one message to each
 * target's inbox, with bounded parallelism. Hosts whose inbox cannot be reached are marked
 * `unreachable` at once, so the waits do not wait for them.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { MESSAGE_VERSION, type InboxMessage, type SignedRequest } from '#shared/messages.ts';
import type { RequestSigner } from '#shared/signing.ts';
import { buildTargetTree, type TargetTree } from '#shared/target-tree.ts';
import { requestLifetimeSec } from '#shared/request-expiry.ts';
import { sqsJson } from '#shared/sqs-json.ts';
import type { NodeRunItem, RunMetaItem } from '#shared/runs-table.ts';
import { SIGNING_GROUP_SIZE, type BatchRef } from './state.ts';
import type { RunStore } from '#shared/stores/runs-store.ts';
import type { ReplyLedger } from './reply-ledger.ts';

export interface DispatchDeps {
  runs: RunStore;
  ledger: ReplyLedger;
  sqs: SQSClient;
  signer: RequestSigner;
  /** The inbox URL of a node, derived from the stage (`inboxQueueUrl`), never from a heartbeat. */
  inboxUrl: (nodeId: string) => string;
  now: () => number;
  /** Concurrent SendMessage calls. */
  parallelism?: number;
}

export interface DispatchOutcome {
  sent: number;
  unreachable: number;
}

/**
 * The document agents verify: common to the group, naming its targets by the root of their tree
 * (each message carries its host's proof, shared/target-tree.ts), so a message stays ~1 KB
 * however many hosts the signature covers.
 */
export function buildSignedRequest(
  meta: RunMetaItem,
  batch: number,
  targetTree: TargetTree,
  now: number,
  action: SignedRequest['action'] = meta.action,
  group?: number,
): SignedRequest {
  // Valid until the acknowledgement window ends: a host the run gives up on never runs it later.
  const ttlSec = requestLifetimeSec(meta.options);
  return {
    v: MESSAGE_VERSION,
    runId: meta.runId,
    batch,
    // The targets' dispatch group: their replies echo it, and count on that group's tally.
    ...(group !== undefined ? { group } : {}),
    action,
    ...(meta.command && action !== 'cancel' ? { command: meta.command } : {}),
    timeoutSec: meta.options.timeoutSec,
    issuedAt: now,
    expiresAt: now + ttlSec * 1000,
    filter: meta.filter,
    targetTree,
    caller: meta.caller,
  };
}

/**
 * Sends the batch's request to one dispatch group of it (`group`, as the run state machine's Map
 * does) or to the whole batch. Only hosts still `pending` are sent to: a retried invocation does
 * not send again to a host that answered.
 */
export async function dispatchBatch(
  ref: BatchRef & { group?: number },
  deps: DispatchDeps,
): Promise<DispatchOutcome> {
  const meta = await deps.runs.getMeta(ref.runId);
  if (!meta) throw new Error(`run ${ref.runId} has no meta record`);
  if (meta.status === 'cancelled') return { sent: 0, unreachable: 0 };
  const nodes =
    ref.group === undefined
      ? await deps.runs.queryNodes(ref.runId, { batch: ref.batch })
      : await deps.runs.groupNodes(ref.runId, ref.batch, ref.group);
  const targets = nodes.filter((node) => node.status === 'pending' && node.batch === ref.batch);
  const now = deps.now();
  await deps.runs.markBatchDispatched(ref.runId, ref.batch, now);
  // The batch's groups are dispatched at once: the first record stands, not the last to write.
  if (meta.firstDispatchAt === undefined) await deps.runs.markFirstDispatch(ref.runId, now);

  const unreachable = await sendSigned(meta, ref.batch, targets, now, meta.action, deps);
  for (const { node, error } of unreachable) {
    const at = { batch: ref.batch, group: node.group ?? ref.group ?? 0 };
    await deps.ledger.markUnreachable(ref.runId, at, node, `inbox unreachable: ${error}`);
  }
  return { sent: targets.length - unreachable.length, unreachable: unreachable.length };
}

/**
 * Tells the hosts of a dispatched batch that may still run the command (not yet acknowledged, or
 * running) to stop it, with a signed `cancel`. Unreachable inboxes change nothing: those hosts are
 * given up on anyway.
 */
export async function dispatchCancel(ref: BatchRef, deps: DispatchDeps): Promise<DispatchOutcome> {
  const meta = await deps.runs.getMeta(ref.runId);
  if (!meta) throw new Error(`run ${ref.runId} has no meta record`);
  const live = (await deps.runs.queryNodes(ref.runId, { batch: ref.batch })).filter(
    (node) => node.status === 'pending' || node.status === 'acked',
  );
  const unreachable = await sendSigned(meta, ref.batch, live, deps.now(), 'cancel', deps);
  return { sent: live.length - unreachable.length, unreachable: unreachable.length };
}

/**
 * Signs `action` for the targets (one signature per group of SIGNING_GROUP_SIZE) and sends one
 * message to each inbox; returns the hosts whose inbox could not be reached.
 */
export async function sendSigned(
  meta: RunMetaItem,
  batch: number,
  targets: readonly NodeRunItem[],
  now: number,
  action: SignedRequest['action'],
  deps: Pick<DispatchDeps, 'sqs' | 'signer' | 'parallelism' | 'inboxUrl'>,
): Promise<{ node: NodeRunItem; error: string }[]> {
  const limit = pLimit(deps.parallelism ?? 32);
  const unreachable: { node: NodeRunItem; error: string }[] = [];
  for (const group of signingGroups(targets)) {
    const tree = buildTargetTree(group.map((n) => n.nodeId));
    // The signed document names its key, so an agent pinned to another key can say so.
    const document = JSON.stringify({
      ...buildSignedRequest(meta, batch, tree.tree, now, action, group[0]!.group),
      keyId: deps.signer.keyId,
      ...(meta.callerArn !== undefined ? { callerArn: meta.callerArn } : {}),
    });
    const signature = await deps.signer.sign(document);
    await Promise.all(
      group.map((node, index) =>
        limit(async () => {
          const message: InboxMessage = {
            v: MESSAGE_VERSION,
            nodeId: node.nodeId,
            request: document,
            signature,
            targetProof: tree.proof(index),
          };
          try {
            await deps.sqs.send(
              new SendMessageCommand({
                QueueUrl: deps.inboxUrl(node.nodeId),
                MessageBody: sqsJson(message),
              }),
            );
          } catch (error: unknown) {
            unreachable.push({
              node,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            });
          }
        }),
      ),
    );
  }
  return unreachable;
}

/**
 * The targets cut into signed documents: one per dispatch group (each names its group), at most
 * SIGNING_GROUP_SIZE hosts each, in the targets' order.
 */
export function signingGroups(targets: readonly NodeRunItem[]): NodeRunItem[][] {
  const byGroup = new Map<number | undefined, NodeRunItem[]>();
  for (const node of targets) {
    const nodes = byGroup.get(node.group) ?? [];
    nodes.push(node);
    byGroup.set(node.group, nodes);
  }
  const documents: NodeRunItem[][] = [];
  for (const nodes of byGroup.values()) {
    for (let i = 0; i < nodes.length; i += SIGNING_GROUP_SIZE)
      documents.push(nodes.slice(i, i + SIGNING_GROUP_SIZE));
  }
  return documents;
}
