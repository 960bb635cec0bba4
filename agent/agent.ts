/**
 * One drover agent: its inbox queue, its facts, its heartbeat, and the loop that turns signed
 * requests into acknowledged, executed and reported commands, at most once each.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import pLimit, { type LimitFunction } from 'p-limit';
import { inboxQueueName } from '#shared/stage-config.ts';
import { MESSAGE_VERSION, type Reply, type ResultReply, type SignedRequest } from '#shared/messages.ts';
import { awsErrorName } from '#shared/aws.ts';
import { DedupeStore } from './dedupe-store.ts';
import { executeCommand, type ExecutionResult } from './executor.ts';
import { loadFacts, type LoadedFacts } from './facts.ts';
import { checkRequest } from './request-gate.ts';
import { AuditLog, type AgentLog } from './json-log.ts';

export interface AgentSettings {
  stage: string;
  nodeId: string;
  identity: string;
  repliesQueueUrl: string;
  publicKey: KeyObject;
  /** Dedupe store and audit log live here. */
  stateDir: string;
  heartbeatSec: number;
  factsRefreshSec: number;
  factFiles: string[];
  classFiles: string[];
  factsCommand?: string;
  concurrency: number;
  outputCapBytes: number;
  killGraceMs: number;
  pollWaitSec: number;
  agentVersion: string;
  /** PATH given to commands. */
  commandPath: string;
}

export interface AgentDeps {
  sqs: SQSClient;
  log: AgentLog;
  now?: () => number;
}

const INTERRUPTED = 'the agent restarted while this command was running; its outcome is unknown';

export class Agent {
  #inboxUrl = '';
  #facts: LoadedFacts = { facts: {}, classes: [] };
  #factsLoadedAt = 0;
  #dedupe: DedupeStore | undefined;
  readonly #audit: AuditLog;
  readonly #abort = new AbortController();
  readonly #limit: LimitFunction;
  readonly #running = new Map<string, AbortController>();
  readonly #executions = new Set<Promise<void>>();
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #startedAt: number;
  readonly #now: () => number;

  constructor(
    readonly settings: AgentSettings,
    private readonly deps: AgentDeps,
  ) {
    this.#now = deps.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#audit = new AuditLog(join(settings.stateDir, 'audit.jsonl'));
    this.#limit = pLimit(settings.concurrency);
  }

  get inboxUrl(): string {
    return this.#inboxUrl;
  }

  get facts(): LoadedFacts {
    return this.#facts;
  }

  /** Creates the inbox, loads facts, reports interrupted requests, heartbeats, starts polling. */
  async start(): Promise<void> {
    this.#dedupe = DedupeStore.open(join(this.settings.stateDir, 'dedupe.jsonl'), {
      onWarning: (message) => this.deps.log.warn(message),
    });
    await this.refreshFacts();
    await this.#ensureInbox();
    await this.#reportInterrupted();
    await this.sendHeartbeat();
    this.#heartbeat = setInterval(() => {
      this.#beat().catch((error: unknown) => this.deps.log.warn('heartbeat failed', { error }));
    }, this.settings.heartbeatSec * 1000);
    this.#loop = this.#poll();
    this.deps.log.info('agent started', { inbox: this.#inboxUrl, classes: this.#facts.classes.length });
  }

  /** Stops polling, lets running commands finish for `graceMs`, then cancels what is left. */
  async stop(graceMs = 30_000): Promise<void> {
    this.#abort.abort();
    clearInterval(this.#heartbeat);
    await this.#loop;
    const all = Promise.allSettled([...this.#executions]);
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    if ((await Promise.race([all.then(() => 'done' as const), timer])) === 'timeout') {
      for (const controller of this.#running.values()) controller.abort();
      await all;
    }
    this.#dedupe?.close();
    this.deps.log.info('agent stopped');
  }

  async refreshFacts(): Promise<void> {
    this.#facts = await loadFacts({
      identity: this.settings.identity,
      factFiles: this.settings.factFiles,
      classFiles: this.settings.classFiles,
      agentVersion: this.settings.agentVersion,
      factsCommand: this.settings.factsCommand,
      onWarning: (message) => this.deps.log.warn('fact source skipped', { problem: message }),
    });
    this.#factsLoadedAt = this.#now();
  }

  async sendHeartbeat(): Promise<void> {
    await this.#reply({
      v: MESSAGE_VERSION,
      type: 'heartbeat',
      nodeId: this.settings.nodeId,
      identity: this.settings.identity,
      sentAt: this.#now(),
      inbox: this.#inboxUrl,
      facts: this.#facts.facts,
      classes: this.#facts.classes,
      agentVersion: this.settings.agentVersion,
      heartbeatSec: this.settings.heartbeatSec,
      startedAt: this.#startedAt,
    });
  }

  async #beat(): Promise<void> {
    if (this.#now() - this.#factsLoadedAt >= this.settings.factsRefreshSec * 1000) await this.refreshFacts();
    await this.sendHeartbeat();
  }

  async #ensureInbox(): Promise<void> {
    const out = await this.deps.sqs.send(
      new CreateQueueCommand({
        QueueName: inboxQueueName(this.settings.stage, this.settings.nodeId),
        Attributes: {
          MessageRetentionPeriod: '86400',
          VisibilityTimeout: '60',
          ReceiveMessageWaitTimeSeconds: '20',
        },
        tags: { 'drover:stage': this.settings.stage, 'drover:node': this.settings.nodeId },
      }),
    );
    this.#inboxUrl = out.QueueUrl ?? '';
  }

  async #poll(): Promise<void> {
    const signal = this.#abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const out = await this.deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#inboxUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: this.settings.pollWaitSec,
          }),
          { abortSignal: signal },
        );
        failures = 0;
        for (const message of out.Messages ?? []) await this.#handle(message);
      } catch (error: unknown) {
        if (signal.aborted) return;
        failures++;
        const name = awsErrorName(error);
        if (name === 'QueueDoesNotExist' || name === 'AWS.SimpleQueueService.NonExistentQueue') {
          this.deps.log.warn('inbox queue is gone: recreating it', { inbox: this.#inboxUrl });
          await this.#ensureInbox().catch(() => undefined);
          await this.sendHeartbeat().catch(() => undefined);
        } else {
          this.deps.log.warn('receive failed; backing off', { error, failures });
        }
        // Exponential backoff with full jitter, capped at 20 s.
        const delay = Math.random() * Math.min(20_000, 250 * 2 ** failures);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  async #handle(message: Message): Promise<void> {
    const decision = checkRequest(message.Body ?? '', {
      nodeId: this.settings.nodeId,
      publicKey: this.settings.publicKey,
      dedupe: this.#dedupe!,
      host: () => ({
        identity: this.settings.identity,
        facts: this.#facts.facts,
        classes: this.#facts.classes,
      }),
      now: this.#now,
    });
    const base = {
      runId: decision.request?.runId,
      batch: decision.request?.batch,
      caller: decision.request?.caller,
    };
    if (decision.kind === 'drop') {
      this.deps.log.warn('request dropped', {
        ...base,
        reason: decision.reason,
        messageId: message.MessageId,
      });
      this.#audit.record({
        decision: 'dropped',
        reason: decision.reason,
        messageId: message.MessageId,
        ...base,
      });
      await this.#delete(message);
      return;
    }
    const { request } = decision;
    if (decision.kind === 'reject') {
      this.deps.log.warn('request rejected', { ...base, reason: decision.reason });
      this.#audit.record({
        decision: 'rejected',
        reason: decision.reason,
        command: request.command,
        ...base,
      });
      await this.#reply({
        ...this.#replyBase(),
        type: 'rejected',
        runId: request.runId,
        batch: request.batch,
        reason: decision.reason,
      });
      await this.#delete(message);
      return;
    }
    await Promise.all([
      this.#reply({ ...this.#replyBase(), type: 'ack', runId: request.runId, batch: request.batch }),
      this.#delete(message),
    ]);
    const execution = this.#limit(() => this.#execute(request, decision.key)).catch((error: unknown) =>
      this.deps.log.error('execution failed', { ...base, error }),
    );
    this.#executions.add(execution);
    void execution.finally(() => this.#executions.delete(execution));
  }

  async #execute(request: SignedRequest, key: string): Promise<void> {
    const controller = new AbortController();
    this.#running.set(key, controller);
    try {
      const result: ExecutionResult =
        request.action === 'ping' || !request.command
          ? pingResult(this.#now())
          : await executeCommand(request.command, {
              timeoutSec: request.timeoutSec,
              env: this.#commandEnv(request),
              outputCapBytes: this.settings.outputCapBytes,
              killGraceMs: this.settings.killGraceMs,
              signal: controller.signal,
            });
      await this.#reply(this.#resultReply(request, result));
      this.#dedupe!.markDone(key);
      this.#audit.record({
        decision: 'accepted',
        runId: request.runId,
        batch: request.batch,
        caller: request.caller,
        command: request.command,
        exitCode: result.exitCode,
        durationMs: result.endedAt - result.startedAt,
      });
    } finally {
      this.#running.delete(key);
    }
  }

  #commandEnv(request: SignedRequest): Record<string, string> {
    return {
      PATH: this.settings.commandPath,
      HOME: process.env.HOME ?? '/',
      LANG: 'C.UTF-8',
      DROVER_RUN_ID: request.runId,
      DROVER_BATCH: String(request.batch),
      DROVER_NODE_ID: this.settings.nodeId,
      DROVER_IDENTITY: this.settings.identity,
      DROVER_CALLER: request.caller,
    };
  }

  #resultReply(request: Pick<SignedRequest, 'runId' | 'batch'>, r: ExecutionResult): ResultReply {
    return {
      ...this.#replyBase(),
      type: 'result',
      runId: request.runId,
      batch: request.batch,
      exitCode: r.exitCode,
      signal: r.signal,
      timedOut: r.timedOut,
      ...(r.cancelled ? { cancelled: true } : {}),
      stdout: r.stdout,
      stderr: r.stderr,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      ...(r.error !== undefined ? { error: r.error } : {}),
    };
  }

  /** Requests claimed before a crash never reported a result: say so, once. */
  async #reportInterrupted(): Promise<void> {
    for (const key of this.#dedupe!.startedButNotDone()) {
      const hash = key.lastIndexOf('#');
      const runId = key.slice(0, hash);
      const batch = Number(key.slice(hash + 1));
      const now = this.#now();
      const empty = { text: '', bytes: 0, truncated: false };
      await this.#reply(
        this.#resultReply(
          { runId, batch },
          {
            exitCode: null,
            signal: null,
            timedOut: false,
            cancelled: false,
            stdout: empty,
            stderr: empty,
            startedAt: now,
            endedAt: now,
            error: INTERRUPTED,
          },
        ),
      );
      this.#dedupe!.markDone(key);
      this.deps.log.warn('reported a request interrupted by a restart', { runId, batch });
    }
  }

  #replyBase() {
    return {
      v: MESSAGE_VERSION,
      nodeId: this.settings.nodeId,
      identity: this.settings.identity,
      sentAt: this.#now(),
    } as const;
  }

  async #reply(reply: Reply): Promise<void> {
    await this.deps.sqs.send(
      new SendMessageCommand({ QueueUrl: this.settings.repliesQueueUrl, MessageBody: JSON.stringify(reply) }),
    );
  }

  async #delete(message: Message): Promise<void> {
    await this.deps.sqs.send(
      new DeleteMessageCommand({ QueueUrl: this.#inboxUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }
}

function pingResult(now: number): ExecutionResult {
  const empty = { text: '', bytes: 0, truncated: false };
  return {
    exitCode: 0,
    signal: null,
    timedOut: false,
    cancelled: false,
    stdout: empty,
    stderr: empty,
    startedAt: now,
    endedAt: now,
  };
}

/** The identity an agent uses off EC2. */
export const defaultIdentity = (): string => hostname();
