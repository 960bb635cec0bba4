/**
 * Ingest: the consumer of the replies queue. Parses each record; heartbeats update the nodes
 * table, run replies go to the ledger as one group (one counter update per batch). Records that
 * fail are reported back so SQS redelivers them, and after 5 receives moves them to the DLQ.
 */
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { describeZodError, replySchema, type HeartbeatReply, type Reply } from '#shared/messages.ts';
import type { RecordOutcome, ReplyLedger } from './reply-ledger.ts';
import type { HeartbeatOutcome, NodeRegistry } from './node-registry.ts';
import type { RunReply } from './reply-transitions.ts';

/** `AROA…:i-0abc…`: the SenderId SQS records for a message sent with an EC2 instance role. */
const INSTANCE_ROLE_SENDER = /^AROA[A-Z0-9]+:(i-[0-9a-f]{8,17})$/;

/**
 * Whether a reply may have come from the node it names. Only instance-role senders can be
 * checked (their session name is the instance id); other principals (operators, local stack) pass.
 */
export function senderMatches(senderId: string | undefined, nodeId: string): boolean {
  const match = INSTANCE_ROLE_SENDER.exec(senderId ?? '');
  return !match || match[1] === nodeId;
}

export interface IngestDeps {
  ledger: ReplyLedger;
  registry: NodeRegistry;
  now: () => number;
  log: {
    info(message: string, extra: Record<string, unknown>): void;
    warn(message: string, extra: Record<string, unknown>): void;
    error(message: string, extra: Record<string, unknown>): void;
  };
  /** Called when a heartbeat changed the node's membership (joined, returned, ignored). */
  onMembership?: (outcome: Exclude<HeartbeatOutcome, 'seen'>, hb: HeartbeatReply) => Promise<void>;
  /** Reject replies whose instance-role sender is not the node they claim to be. */
  verifySender: boolean;
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
  const runReplies: { id: string; reply: RunReply }[] = [];
  const heartbeats: { id: string; reply: HeartbeatReply }[] = [];

  for (const record of records) {
    const parsed = parseReply(record.body);
    if ('error' in parsed) {
      deps.log.warn('malformed reply rejected', { messageId: record.messageId, reason: parsed.error });
      failures.add(record.messageId);
    } else if (deps.verifySender && !senderMatches(record.attributes.SenderId, parsed.reply.nodeId)) {
      // A forged reply: dropped (not retried), so it neither counts nor lingers in the DLQ.
      deps.log.warn('reply rejected: sender is not the node it claims to be', {
        messageId: record.messageId,
        nodeId: parsed.reply.nodeId,
        senderId: record.attributes.SenderId,
        type: parsed.reply.type,
      });
    } else if (parsed.reply.type === 'heartbeat') {
      heartbeats.push({ id: record.messageId, reply: parsed.reply });
    } else {
      runReplies.push({ id: record.messageId, reply: parsed.reply });
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
        outcomes = await deps.ledger.record(runReplies.map((r) => r.reply));
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
