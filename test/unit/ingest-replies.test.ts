import { describe, expect, it } from 'vitest';
import type { SQSRecord } from 'aws-lambda';
import { ingestReplies, REFUSED_SENDER_LOG, type IngestDeps } from '#functions/run/ingest-replies.ts';
import { senderRefusal } from '#shared/sender-binding.ts';
import type { RecordOutcome, ReplyLedger } from '#functions/run/reply-ledger.ts';
import type { NodeHeartbeats } from '#shared/stores/nodes-heartbeats.ts';
import type { RunReply } from '#functions/run/reply-transitions.ts';
import type { HeartbeatReply } from '#shared/messages.ts';
import { inboxQueueUrl } from '#shared/stage-config.ts';
import { ackReply, heartbeatReply, resultReply } from '../helpers/factories.ts';

function record(
  body: unknown,
  overrides: { id?: string; senderId?: string; sentTimestamp?: string; receiveCount?: string } = {},
): SQSRecord {
  return {
    messageId: overrides.id ?? `m-${Math.random()}`,
    receiptHandle: 'rh',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: overrides.receiveCount ?? '1',
      SentTimestamp: overrides.sentTimestamp ?? '1',
      SenderId: overrides.senderId ?? 'AIDAEXAMPLEUSER',
      ApproximateFirstReceiveTimestamp: '1',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:drover-test-replies',
    awsRegion: 'us-east-1',
  };
}

/** Records what ingest hands to its collaborators (the ledger and registry are its dependencies). */
function harness(
  options: {
    ledgerFails?: boolean;
    registryFails?: boolean;
    verifySender?: boolean;
    outcomes?: RecordOutcome[];
  } = {},
) {
  const recorded: RunReply[] = [];
  const queued: (number | undefined)[] = [];
  const firsts: (boolean | undefined)[] = [];
  const heartbeats: HeartbeatReply[] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  const deps: IngestDeps = {
    ledger: {
      record: async (
        replies: readonly RunReply[],
        queuedAt: readonly (number | undefined)[] = [],
        firstDelivery: readonly (boolean | undefined)[] = [],
      ) => {
        if (options.ledgerFails) throw new Error('DynamoDB is down');
        recorded.push(...replies);
        queued.push(...replies.map((_, i) => queuedAt[i]));
        firsts.push(...replies.map((_, i) => firstDelivery[i]));
        return replies.map((_, i) => options.outcomes?.[i] ?? ('recorded' as const));
      },
    } as unknown as ReplyLedger,
    registry: {
      recordHeartbeat: async (hb: HeartbeatReply) => {
        if (options.registryFails) throw new Error('DynamoDB is down');
        heartbeats.push(hb);
        return 'seen';
      },
    } as unknown as NodeHeartbeats,
    now: () => 1_000,
    log: { info: (m) => infos.push(m), warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    verifySender: options.verifySender ?? true,
    // The records' default sender, bound (like the local demo fleet) to any node but instances.
    senderBindings: { roles: ['AROALOCALAGENT'], senders: { AIDAEXAMPLEUSER: ['*'] } },
    inboxUrl: (nodeId) =>
      inboxQueueUrl('http://127.0.0.1:1/000000000000/drover-test-replies', 'test', nodeId),
  };
  return { deps, recorded, queued, firsts, heartbeats, warnings, infos };
}

describe('senderRefusal: who may speak for which node', () => {
  const bindings = { roles: ['AROAOFFEC2'], senders: { AIDABOUNDUSER: ['web-7'], AIDAFLEET: ['*'] } };

  it('lets an instance-role session speak for its own instance only', () => {
    expect(
      senderRefusal('AROAEXAMPLEROLE:i-0123456789abcdef0', 'i-0123456789abcdef0', bindings),
    ).toBeUndefined();
    expect(senderRefusal('AROAEXAMPLEROLE:i-0123456789abcdef0', 'i-0fedcba9876543210', bindings)).toBe(
      'sent by instance i-0123456789abcdef0, not by i-0fedcba9876543210',
    );
    expect(senderRefusal('AROAEXAMPLEROLE:i-0123456789abcdef0', 'web-1', bindings)).toBeDefined();
  });

  it('lets a session of a bound role speak for the node its session is named after', () => {
    expect(senderRefusal('AROAOFFEC2:web-1', 'web-1', bindings)).toBeUndefined();
    expect(senderRefusal('AROAOFFEC2:web-1', 'web-2', bindings)).toBeDefined();
  });

  it('lets a bound principal speak for its nodes only, "*" never for an EC2 instance', () => {
    expect(senderRefusal('AIDABOUNDUSER', 'web-7', bindings)).toBeUndefined();
    expect(senderRefusal('AIDABOUNDUSER', 'web-8', bindings)).toBe(
      'sender AIDABOUNDUSER may not speak for web-8',
    );
    expect(senderRefusal('AIDAFLEET', 'web-8', bindings)).toBeUndefined();
    expect(senderRefusal('AIDAFLEET', 'i-0123456789abcdef0', bindings)).toBeDefined();
  });

  it('refuses everyone else: other users and roles, hybrid sessions, no sender', () => {
    expect(senderRefusal('AIDAOPERATOR', 'web-1', bindings)).toBe(
      'sender AIDAOPERATOR is not bound to any node',
    );
    expect(senderRefusal('AROAOTHERROLE:web-1', 'web-1', bindings)).toBeDefined();
    expect(
      senderRefusal('AROAEXAMPLEROLE:mi-0123456789abcdef0', 'mi-0123456789abcdef0', bindings),
    ).toBeDefined();
    expect(senderRefusal(undefined, 'web-1', bindings)).toBe('the message has no SenderId');
  });
});

describe('ingestReplies', () => {
  it('records run replies and heartbeats and reports no failure', async () => {
    const h = harness();

    const out = await ingestReplies(
      [record(ackReply()), record(resultReply()), record(heartbeatReply())],
      h.deps,
    );

    expect(out.batchItemFailures).toEqual([]);
    expect(h.recorded.map((r) => r.type)).toEqual(['ack', 'result']);
    expect(h.heartbeats).toHaveLength(1);
  });

  it("hands the ledger each reply's SentTimestamp (when it reached SQS), none when a record has none", async () => {
    const h = harness();

    await ingestReplies(
      [record(ackReply(), { sentTimestamp: '1796171782056' }), record(resultReply(), { sentTimestamp: '' })],
      h.deps,
    );

    expect(h.queued).toEqual([1796171782056, undefined]);
  });

  it('tells the ledger which replies are first deliveries: a redelivered one may carry a repair', async () => {
    const h = harness();

    await ingestReplies(
      [
        record(ackReply(), { receiveCount: '1' }),
        record(resultReply(), { receiveCount: '2' }),
        record(ackReply({ nodeId: 'web-2', identity: 'web-2' }), { receiveCount: '' }),
      ],
      h.deps,
    );

    // A record without a count (no such record comes from SQS) is not taken for a first delivery.
    expect(h.firsts).toEqual([true, false, false]);
  });

  it('logs a duplicate reply quietly and a late or unknown one as a warning, failing none', async () => {
    const h = harness({ outcomes: ['duplicate', 'late', 'unknown'] });

    const out = await ingestReplies(
      [record(ackReply()), record(resultReply()), record(resultReply({ nodeId: 'ghost-1' }))],
      h.deps,
    );

    expect(out.batchItemFailures).toEqual([]);
    expect(h.infos).toEqual(['duplicate reply ignored']);
    expect(h.warnings).toEqual(['late reply', 'unknown reply']);
  });

  it('reports a malformed reply as a failure so it is retried and then dead-lettered', async () => {
    const h = harness();

    const out = await ingestReplies(
      [record('not json', { id: 'bad-1' }), record({ v: 1, type: 'ack' }, { id: 'bad-2' })],
      h.deps,
    );

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'bad-1' }, { itemIdentifier: 'bad-2' }]);
    expect(h.warnings).toEqual(['malformed reply rejected', 'malformed reply rejected']);
  });

  it('drops a reply whose instance-role sender is not the node it names, without retrying it', async () => {
    const h = harness();
    const forged = ackReply({ nodeId: 'i-0fedcba9876543210' });
    const forgedHeartbeat = heartbeatReply({ nodeId: 'i-0fedcba9876543210' });

    const out = await ingestReplies(
      [
        record(forged, { senderId: 'AROAEXAMPLEROLE:i-0123456789abcdef0' }),
        record(forgedHeartbeat, { senderId: 'AROAEXAMPLEROLE:i-0123456789abcdef0' }),
      ],
      h.deps,
    );

    expect(out.batchItemFailures).toEqual([]);
    expect(h.recorded).toEqual([]);
    expect(h.heartbeats).toEqual([]);
    expect(h.warnings).toEqual([REFUSED_SENDER_LOG, REFUSED_SENDER_LOG]);
  });

  it('refuses a reply from a principal bound to no node (an operator, another role)', async () => {
    const h = harness();

    await ingestReplies(
      [
        record(ackReply(), { senderId: 'AIDAOPERATOR' }),
        record(resultReply(), { senderId: 'AROAOTHER:web-1' }),
      ],
      h.deps,
    );

    expect(h.recorded).toEqual([]);
    expect(h.warnings).toEqual([REFUSED_SENDER_LOG, REFUSED_SENDER_LOG]);
  });

  it('does not check senders when configured not to (DROVER_VERIFY_SENDER=false)', async () => {
    const h = harness({ verifySender: false });

    await ingestReplies(
      [record(ackReply({ nodeId: 'i-0fedcba9876543210' }), { senderId: 'AROAX:i-0123456789abcdef0' })],
      h.deps,
    );

    expect(h.recorded).toHaveLength(1);
  });

  it('fails every run reply of the batch when the ledger cannot record them', async () => {
    const h = harness({ ledgerFails: true });

    const out = await ingestReplies(
      [
        record(ackReply(), { id: 'a' }),
        record(resultReply(), { id: 'b' }),
        record(heartbeatReply(), { id: 'c' }),
      ],
      h.deps,
    );

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }]);
  });

  it('fails only the run replies the ledger could not record, and says why', async () => {
    const h = harness({ outcomes: ['recorded', { error: new Error('throttled') }, 'duplicate'] });

    const out = await ingestReplies(
      [
        record(ackReply({ nodeId: 'web-1' }), { id: 'a' }),
        record(resultReply({ nodeId: 'web-2' }), { id: 'b' }),
        record(ackReply({ nodeId: 'web-3' }), { id: 'c' }),
      ],
      h.deps,
    );

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'b' }]);
    expect(h.warnings).toEqual(['run reply not recorded']);
    expect(h.infos).toEqual(['duplicate reply ignored']);
  });

  it('fails only the heartbeat that could not be recorded', async () => {
    const h = harness({ registryFails: true });

    const out = await ingestReplies(
      [record(heartbeatReply(), { id: 'hb' }), record(ackReply(), { id: 'a' })],
      h.deps,
    );

    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'hb' }]);
  });
});
