/**
 * Ingest: the consumer of the replies queue. Parses each record; heartbeats update the nodes
 * table, run replies go to the ledger as one group (one counter update per batch). Records that
 * fail are reported back so SQS redelivers them, and after 5 receives moves them to the DLQ.
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { describeZodError, replySchema, type HeartbeatReply, type Reply } from '#shared/messages.ts';
import { NO_SENDER_BINDINGS, senderRefusal, type SenderBindings } from '#shared/sender-binding.ts';
import type { RecordOutcome, ReplyLedger } from './reply-ledger.ts';
import type { HeartbeatOutcome, NodeHeartbeats } from '#shared/stores/nodes-heartbeats.ts';
import type { RunReply } from './reply-transitions.ts';

export interface IngestDeps {
  ledger: ReplyLedger;
  registry: NodeHeartbeats;
  now: () => number;
  log: {
    info(message: string, extra: Record<string, unknown>): void;
    warn(message: string, extra: Record<string, unknown>): void;
    error(message: string, extra: Record<string, unknown>): void;
  };
  /** Called when a heartbeat changed the node's membership (joined, returned, ignored). */
  onMembership?: (outcome: Exclude<HeartbeatOutcome, 'seen'>, hb: HeartbeatReply) => Promise<void>;
  /** Refuse replies whose sender may not speak for the node they name (`senderRefusal`). */
  verifySender: boolean;
  /** Who may speak for which node besides EC2 instance roles. */
  senderBindings?: SenderBindings;
  /** The inbox URL a node must have: derived from the stage and its id (`inboxQueueUrl`). */
  inboxUrl: (nodeId: string) => string;
}

/**
 * Why a heartbeat's inbox is not the node's own, or undefined when it is. The account and queue
 * name (the URL's path) must be the ones derived from the stage and node id; the host part may
 * differ (SQS answers with its canonical endpoint, whichever endpoint the agent called).
 */
export function foreignInbox(hb: HeartbeatReply, expected: string): string | undefined {
  let path: string;
  try {
    path = new URL(hb.inbox).pathname;
  } catch {
    return 'inbox is not a URL';
  }
  return path === new URL(expected).pathname ? undefined : `inbox is not ${expected}`;
}

/**
 * The message of the log line a refused sender gets: serverless.yml counts these lines into the
 * `RefusedReplies` metric, and its alarm fires on the first one.
 */
export const REFUSED_SENDER_LOG = 'reply refused: its sender may not speak for the node it names';

/** True (and logged) when the record's sender may not speak for the node its reply names. */
function refusedSender(record: SQSRecord, reply: Reply, deps: IngestDeps): boolean {
  const reason = senderRefusal(
    record.attributes.SenderId,
    reply.nodeId,
    deps.senderBindings ?? NO_SENDER_BINDINGS,
  );
  if (reason === undefined) return false;
  deps.log.warn(REFUSED_SENDER_LOG, {
    messageId: record.messageId,
    nodeId: reply.nodeId,
    senderId: record.attributes.SenderId,
    type: reply.type,
    reason,
  });
  return true;
}

/** Parses one SQS body into a reply, or the reason it is not one. */
export function parseReply(body: string): { reply: Reply } | { error: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { error: 'body is not JSON' };
  }
  const parsed = replySchema.safeParse(json);
  if (!parsed.success) return { error: describeZodError(parsed.error) };
  return { reply: parsed.data };
}

export async function ingestReplies(
  records: readonly SQSRecord[],
  deps: IngestDeps,
): Promise<SQSBatchResponse> {
  const failures = new Set<string>();
  const runReplies: { id: string; reply: RunReply; queuedAt: number | undefined; first: boolean }[] = [];
  const heartbeats: { id: string; reply: HeartbeatReply }[] = [];

  for (const record of records) {
    const parsed = parseReply(record.body);
    if ('error' in parsed) {
      deps.log.warn('malformed reply rejected', { messageId: record.messageId, reason: parsed.error });
      failures.add(record.messageId);
    } else if (deps.verifySender && refusedSender(record, parsed.reply, deps)) {
      // A forged reply: dropped (not retried), so it neither counts nor lingers in the DLQ.
    } else if (parsed.reply.type === 'heartbeat') {
      const expected = deps.inboxUrl(parsed.reply.nodeId);
      const problem = foreignInbox(parsed.reply, expected);
      if (problem) {
        // Refused, not retried: a host naming another inbox is lying or misconfigured.
        deps.log.warn("heartbeat refused: its inbox is not the node's own", {
          messageId: record.messageId,
          nodeId: parsed.reply.nodeId,
          inbox: parsed.reply.inbox,
          reason: problem,
        });
      } else {
        heartbeats.push({ id: record.messageId, reply: { ...parsed.reply, inbox: expected } });
      }
    } else {
      // When it reached SQS: the ledger counts an answer sent within its window, however late
      // ingest gets to it (the event source mapping always includes SentTimestamp).
      const sent = Number(record.attributes.SentTimestamp);
      runReplies.push({
        id: record.messageId,
        reply: parsed.reply,
        queuedAt: Number.isFinite(sent) && sent > 0 ? sent : undefined,
        // A redelivered reply may carry the repair of a lost release: the ledger reads afresh.
        first: Number(record.attributes.ApproximateReceiveCount) === 1,
      });
    }
  }

  await Promise.all([
    ...heartbeats.map(async ({ id, reply }) => {
      try {
        const outcome = await deps.registry.recordHeartbeat(reply, deps.now());
        if (outcome !== 'seen') await deps.onMembership?.(outcome, reply);
      } catch (error: unknown) {
        deps.log.error('heartbeat not recorded', { messageId: id, nodeId: reply.nodeId, error });
        failures.add(id);
      }
    }),
    (async () => {
      if (runReplies.length === 0) return;
      let outcomes: RecordOutcome[];
      try {
        outcomes = await deps.ledger.record(
          runReplies.map((r) => r.reply),
          runReplies.map((r) => r.queuedAt),
          runReplies.map((r) => r.first),
        );
      } catch (error: unknown) {
        outcomes = runReplies.map(() => ({ error }));
      }
      outcomes.forEach((outcome, i) => {
        const { id, reply } = runReplies[i]!;
        const about = { runId: reply.runId, nodeId: reply.nodeId, type: reply.type };
        if (typeof outcome === 'object') {
          deps.log.error('run reply not recorded', { messageId: id, ...about, error: outcome.error });
          failures.add(id);
        } else if (outcome === 'duplicate') {
          // SQS delivers at least once and a result may overtake its ack: duplicates are expected.
          deps.log.info('duplicate reply ignored', about);
        } else if (outcome !== 'recorded') {
          deps.log.warn(`${outcome} reply`, about);
        }
      });
    })(),
  ]);
  return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
}
