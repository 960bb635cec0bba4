/**
 * A scripted agent for integration tests of the control plane: registers a node with a heartbeat
 * and answers its inbox the way the test says (ack only, ack and result, or nothing).
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  MESSAGE_VERSION,
  inboxMessageSchema,
  signedRequestSchema,
  type Reply,
  type SignedRequest,
} from '#shared/messages.ts';
import { inboxQueueName } from '#shared/stage-config.ts';
import { createSqsClient } from '#shared/aws.ts';
import { localAgentKey } from '#shared/local-principals.ts';

/** `ack-and-fail`: the command "exits" 1 on this host. */
export type Behaviour = 'ack-and-result' | 'ack-and-fail' | 'ack-only' | 'silent';

export class FakeAgent {
  inbox = '';
  readonly received: SignedRequest[] = [];
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    private readonly repliesQueueUrl: string,
    readonly nodeId: string,
    private readonly facts: Record<string, unknown>,
    private readonly behaviour: Behaviour,
  ) {}

  async start(stage: string): Promise<void> {
    const out = await this.sqs.send(
      new CreateQueueCommand({ QueueName: inboxQueueName(stage, this.nodeId) }),
    );
    this.inbox = out.QueueUrl!;
    await this.#reply({
      v: MESSAGE_VERSION,
      type: 'heartbeat',
      nodeId: this.nodeId,
      identity: this.nodeId,
      sentAt: Date.now(),
      inbox: this.inbox,
      facts: this.facts,
      classes: [],
      agentVersion: 'fake',
      heartbeatSec: 60,
      startedAt: Date.now(),
    });
    if (this.behaviour !== 'silent') this.#loop = this.#poll();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    await this.#loop?.catch(() => undefined);
    this.#replies?.destroy();
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.inbox, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        { abortSignal: this.#abort.signal },
      );
      for (const message of out.Messages ?? []) {
        const envelope = inboxMessageSchema.parse(JSON.parse(message.Body!));
        const request = signedRequestSchema.parse(JSON.parse(envelope.request));
        this.received.push(request);
        await this.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.inbox, ReceiptHandle: message.ReceiptHandle }),
        );
        if (request.action === 'cancel') {
          // Like a real agent: stop the command; its result says it was cancelled.
          await this.#reply({ ...this.#result(request), cancelled: true, exitCode: null, signal: 'SIGTERM' });
          continue;
        }
        const base = {
          v: MESSAGE_VERSION,
          nodeId: this.nodeId,
          identity: this.nodeId,
          sentAt: Date.now(),
          runId: request.runId,
          batch: request.batch,
          // Echoed as a real agent does: ingest counts the reply on its group's tally.
          ...(request.group !== undefined ? { group: request.group } : {}),
        } as const;
        await this.#reply({ ...base, type: 'ack' });
        if (this.behaviour === 'ack-and-result') await this.#reply(this.#result(request));
        if (this.behaviour === 'ack-and-fail') await this.#reply({ ...this.#result(request), exitCode: 1 });
      }
    }
  }

  #result(request: SignedRequest) {
    const now = Date.now();
    return {
      v: MESSAGE_VERSION,
      type: 'result',
      nodeId: this.nodeId,
      identity: this.nodeId,
      sentAt: now,
      runId: request.runId,
      batch: request.batch,
      ...(request.group !== undefined ? { group: request.group } : {}),
      exitCode: 0,
      signal: null,
      timedOut: false,
      stdout: { text: `${this.nodeId}\n`, bytes: this.nodeId.length + 1, truncated: false },
      stderr: { text: '', bytes: 0, truncated: false },
      startedAt: now,
      endedAt: now + 5,
    } as const;
  }

  /** Replies go out signed as this node's local agent session, so ingest's sender check passes. */
  #replies: SQSClient | undefined;

  async #reply(reply: Reply): Promise<void> {
    this.#replies ??= createSqsClient({
      region: 'us-east-1',
      endpoints: { sqs: new URL(this.repliesQueueUrl).origin },
      credentials: { accessKeyId: localAgentKey([this.nodeId]), secretAccessKey: 'local' },
    });
    await this.#replies.send(
      new SendMessageCommand({ QueueUrl: this.repliesQueueUrl, MessageBody: JSON.stringify(reply) }),
    );
  }
}
