/**
 * One drover agent: its inbox queue, its facts, its heartbeat, and the loop that turns signed
 * requests into acknowledged, executed and reported commands, at most once each. Many agents can
 * share one process and one SQS client (load tests, demo fleets).
 */
import { join } from 'node:path';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { factsProblem, MESSAGE_VERSION, type SignedRequest } from '#shared/messages.ts';
import { RESULT_OUTPUT_BUDGET_BYTES } from '#shared/output-fit.ts';
import { REQUEST_CLOCK_SKEW_SEC } from '#shared/request-expiry.ts';
import { AgentConfigError } from './setup/config.ts';
import { DedupeStore } from './receive/dedupe-store.ts';
import { executeCommand, notRunResult, type ExecutionResult } from './execute/executor.ts';
import { loadFacts, type LoadedFacts } from './setup/facts.ts';
import { checkRequest, type GateDecision } from './receive/request-gate.ts';
import { AuditLog, type AgentLog, type AuditEntry } from './json-log.ts';
import { ExecutionQueue } from './execute/execution-queue.ts';
import { ReplySender } from './reply/reply-sender.ts';
import { ReplyBatcher } from './reply/reply-batcher.ts';
import { ReplySpool } from './reply/reply-spool.ts';
import { Inbox } from './receive/inbox.ts';
import { commandEnv, resultReply } from './reply/results.ts';
import type { AgentSettings } from './setup/settings.ts';

/** Settings a running agent cannot take over on reload: they name its queues and files. */
const FIXED_SETTINGS = ['stage', 'nodeId', 'repliesQueueUrl', 'stateDir', 'auditPath', 'dedupe'] as const;

export interface AgentDeps {
  sqs: SQSClient;
  log: AgentLog;
  now?: () => number;
  random?: () => number;
  /** Runs commands; the real executor unless a test says otherwise. */
  execute?: typeof executeCommand;
  /**
   * Sends the replies (to `repliesQueueUrl`): one for all the agents of a process lets them share
   * calls. The agent's own otherwise.
   */
  replies?: ReplyBatcher;
}

const DEFAULT_ACK_DELAY_MS = 250;

/**
 * How long a periodic heartbeat may wait to share a call with other replies (ReplyBatcher): a
 * second late among intervals of 30 s or more; the first, a reload's and a recreated inbox's go at once.
 */
const HEARTBEAT_LINGER_MS = 1_000;

/**
 * The latest an ack goes out after receipt, when the window allows it (see {@link ackDeadlineMs}):
 * a command that waits this long to start is acked meanwhile.
 */
export const ACK_LATEST_MS = 2_000;

/**
 * How long after receipt the ack of a request goes out at the latest, whether or not its command
 * has started: `ACK_LATEST_MS`, but never more than half what is left of the request's life once
 * a second is taken off for the agent's clock being behind (REQUEST_CLOCK_SKEW_SEC), and never
 * less than the ack delay (what an ack waited before this deadline existed). The run waits for
 * acks a second past `expiresAt` (shared/request-expiry.ts), so the ack lands well within it.
 */
export function ackDeadlineMs(expiresAt: number, now: number, delayMs: number): number {
  const halfLeft = (expiresAt - now - REQUEST_CLOCK_SKEW_SEC * 1000) / 2;
  return Math.max(delayMs, Math.min(ACK_LATEST_MS, halfLeft));
}

const INTERRUPTED = 'the agent restarted while this command was running; its outcome is unknown';
const STOPPED_BEFORE_START = 'the agent stopped before this command could start';

export class Agent {
  #settings: AgentSettings;
  readonly #inbox: Inbox;
  #facts: LoadedFacts = { facts: {}, classes: [] };
  #factsLoaded = false;
  #dedupe: DedupeStore | undefined;
  readonly #audit: AuditLog;
  readonly #abort = new AbortController();
  readonly #queue: ExecutionQueue<SignedRequest>;
  readonly #replies: ReplySender;
  readonly #batcher: ReplyBatcher;
  readonly #spool: ReplySpool;
  /** Replies sent off the inbox loop (rejections, cancelled results): stop() waits for them. */
  readonly #background = new Set<Promise<unknown>>();
  /** Acks still on their way, by request key: a result is sent only once its ack is out. */
  readonly #acks = new Map<string, PendingAck>();
  #loop: Promise<void> | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #factsTimer: NodeJS.Timeout | undefined;
  readonly #startedAt: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #executeCommand: typeof executeCommand;
  readonly #log: AgentLog;

  constructor(
    settings: AgentSettings,
    private readonly deps: AgentDeps,
  ) {
    this.#settings = settings;
    this.#log = deps.log;
    this.#now = deps.now ?? Date.now;
    this.#random = deps.random ?? Math.random;
    this.#executeCommand = deps.execute ?? executeCommand;
    this.#startedAt = this.#now();
    this.#audit = new AuditLog(settings.auditPath ?? join(settings.stateDir, 'audit.jsonl'), (error) =>
      this.#log.error('cannot write the audit log', { error }),
    );
    this.#queue = new ExecutionQueue(this.#limits(), (key, request, signal) =>
      this.#run(key, request, signal),
    );
    const batcher = deps.replies ?? new ReplyBatcher(deps.sqs, settings.repliesQueueUrl);
    this.#batcher = batcher;
    this.#spool = new ReplySpool(join(settings.stateDir, 'outbox'), (body) => batcher.send(body), deps.log);
    this.#replies = new ReplySender(batcher, deps.log, { spool: this.#spool });
    this.#inbox = new Inbox({
      sqs: deps.sqs,
      log: deps.log,
      stage: settings.stage,
      nodeId: settings.nodeId,
      ...(settings.instanceArn !== undefined ? { instanceArn: settings.instanceArn } : {}),
      signal: this.#abort.signal,
      deadLetterPath: join(settings.stateDir, 'dead-letter.jsonl'),
    });
  }

  get settings(): AgentSettings {
    return this.#settings;
  }

  get inboxUrl(): string {
    return this.#inbox.url;
  }

  get facts(): LoadedFacts {
    return this.#facts;
  }

  /**
   * Opens the dedupe store, loads facts, creates the inbox (waiting out an unreachable endpoint),
   * reports requests a crash interrupted, heartbeats, and starts polling.
   */
  async start(): Promise<void> {
    this.#dedupe = DedupeStore.open(join(this.#settings.stateDir, 'dedupe.jsonl'), {
      maxEntries: this.#settings.dedupe?.maxEntries,
      maxAgeMs: this.#settings.dedupe?.maxAgeMs,
      onWarning: (message) => this.#log.warn(message),
    });
    await this.refreshFacts();
    await this.#inbox.create();
    if (this.#abort.signal.aborted) return;
    // Replies kept from before a restart go first; an unreachable queue leaves them for the timer.
    if (this.#spool.hasPending) await this.#spool.drain();
    await this.#reportInterrupted();
    await this.sendHeartbeat();
    if (this.#abort.signal.aborted) return;
    this.#scheduleHeartbeat(true);
    this.#scheduleFactsRefresh(true);
    this.#loop = this.#inbox.poll(
      () => this.#settings.pollWaitSec,
      (message) => this.#handle(message),
      () => this.sendHeartbeat(),
    );
    this.#log.info('agent started', { inbox: this.#inbox.url, classes: this.#facts.classes.length });
  }

  /**
   * Stops polling and heartbeats, starts nothing new, lets running commands finish for `graceMs`
   * (the configured shutdown grace by default), then cancels what is left and reports it.
   */
  async stop(graceMs = this.#settings.shutdownGraceMs ?? 30_000): Promise<void> {
    this.#abort.abort();
    clearTimeout(this.#heartbeat);
    clearTimeout(this.#factsTimer);
    // A heartbeat waiting for company goes now, while the client is still there to send it.
    this.#batcher.flush();
    await this.#loop;
    // Results of commands killed at the end of the grace get one attempt each: the stop must end.
    const graceOver = setTimeout(() => this.#replies.stopRetrying(), graceMs);
    const waiting = await this.#queue.stop(graceMs);
    clearTimeout(graceOver);
    this.#replies.stopRetrying();
    for (const { key, item } of waiting) await this.#reportNotRun(key, item, STOPPED_BEFORE_START, false);
    // Failing now, they are kept in the spool for the next start.
    await Promise.allSettled([...this.#background]);
    this.#spool.stop();
    this.#dedupe?.close();
    this.#log.info('agent stopped');
  }

  /**
   * Takes over new settings (SIGHUP): policy, limits, facts sources, heartbeat, key. Settings that
   * name the agent's queues or files need a restart; they are kept and the log says so.
   */
  async reconfigure(next: AgentSettings): Promise<void> {
    const kept = FIXED_SETTINGS.filter(
      (name) => JSON.stringify(next[name]) !== JSON.stringify(this.#settings[name]),
    );
    if (kept.length > 0) this.#log.warn('these settings change only with a restart', { settings: kept });
    const fixed = Object.fromEntries(FIXED_SETTINGS.map((name) => [name, this.#settings[name]]));
    const heartbeatChanged = next.heartbeatSec !== this.#settings.heartbeatSec;
    const refreshChanged = next.factsRefreshSec !== this.#settings.factsRefreshSec;
    this.#settings = { ...next, ...fixed };
    this.#queue.setLimits(this.#limits());
    await this.refreshFacts();
    const running = this.#loop !== undefined && !this.#abort.signal.aborted;
    if (running && heartbeatChanged) {
      clearTimeout(this.#heartbeat);
      this.#scheduleHeartbeat(true);
    }
    if (running && refreshChanged) {
      clearTimeout(this.#factsTimer);
      this.#scheduleFactsRefresh(true);
    }
    if (this.#inbox.url !== '') await this.sendHeartbeat();
    this.#log.info('configuration reloaded');
  }

  /**
   * Loads the facts and classes again. Ones too large for a heartbeat make the agent refuse to
   * start (AgentConfigError); later, they are logged and the previous ones kept.
   */
  async refreshFacts(): Promise<void> {
    const s = this.#settings;
    const loaded = await loadFacts({
      identity: s.identity,
      baseFacts: s.baseFacts,
      factFiles: s.factFiles,
      classFiles: s.classFiles,
      agentVersion: s.agentVersion,
      factsCommand: s.factsCommand,
      onWarning: (message) => this.#log.warn('fact source skipped', { problem: message }),
    });
    const tooMuch = factsProblem(loaded.facts, loaded.classes);
    if (tooMuch !== undefined) {
      const problem =
        `${tooMuch} (a heartbeat is one SQS message, the host's record one DynamoDB item): ` +
        `trim the fact files, the class files or the facts command's output`;
      if (!this.#factsLoaded) throw new AgentConfigError([`${s.identity}: ${problem}`]);
      this.#log.error('facts not refreshed; keeping the previous ones', { problem });
      return;
    }
    this.#facts = loaded;
    this.#factsLoaded = true;
  }

  async sendHeartbeat(options: { lingerMs?: number } = {}): Promise<void> {
    await this.#replies.send(
      {
        v: MESSAGE_VERSION,
        type: 'heartbeat',
        nodeId: this.#settings.nodeId,
        identity: this.#settings.identity,
        sentAt: this.#now(),
        inbox: this.#inbox.url,
        facts: this.#facts.facts,
        classes: this.#facts.classes,
        agentVersion: this.#settings.agentVersion,
        heartbeatSec: this.#settings.heartbeatSec,
        startedAt: this.#startedAt,
      },
      options,
    );
  }

  /** The first interval is jittered so agents started together do not heartbeat together. */
  #scheduleHeartbeat(first: boolean): void {
    const intervalMs = this.#settings.heartbeatSec * 1000;
    const delay = first ? intervalMs * (0.1 + 0.9 * this.#random()) : intervalMs;
    this.#heartbeat = setTimeout(() => {
      this.sendHeartbeat({ lingerMs: HEARTBEAT_LINGER_MS })
        .catch((error: unknown) => this.#log.warn('heartbeat failed', { error }))
        .finally(() => {
          if (!this.#abort.signal.aborted) this.#scheduleHeartbeat(false);
        });
    }, delay);
  }

  /** Facts are reloaded every `factsRefreshSec` (first interval jittered), so filters see changes. */
  #scheduleFactsRefresh(first: boolean): void {
    const intervalMs = this.#settings.factsRefreshSec * 1000;
    this.#factsTimer = setTimeout(
      () => {
        this.refreshFacts()
          .catch((error: unknown) => this.#log.warn('facts refresh failed', { error }))
          .finally(() => {
            if (!this.#abort.signal.aborted) this.#scheduleFactsRefresh(false);
          });
      },
      first ? intervalMs * (0.5 + 0.5 * this.#random()) : intervalMs,
    );
  }

  async #handle(message: Message): Promise<void> {
    const s = this.#settings;
    const decision = checkRequest(message.Body ?? '', {
      nodeId: s.nodeId,
      publicKey: s.publicKey,
      ...(s.publicKeyId !== undefined ? { keyId: s.publicKeyId } : {}),
      ...(s.nextKeys !== undefined ? { nextKeys: s.nextKeys } : {}),
      dedupe: this.#dedupe!,
      host: () => ({ identity: s.identity, facts: this.#facts.facts, classes: this.#facts.classes }),
      now: this.#now,
      policy: s.policy,
      busy: () => this.#queue.busy(),
    });
    const request = decision.request;
    const base = { runId: request?.runId, batch: request?.batch, caller: request?.caller };
    switch (decision.kind) {
      case 'drop':
        this.#log.warn('request dropped', { ...base, reason: decision.reason, messageId: message.MessageId });
        this.#audit.record({
          ...this.#about(decision),
          decision: 'dropped',
          reason: decision.reason,
          ...messageIdOf(message),
        });
        await this.#inbox.delete(message);
        return;
      case 'reject':
        if (decision.key !== undefined) await this.#durable(decision.key);
        this.#log.warn('request rejected', { ...base, reason: decision.reason });
        this.#audit.record({
          ...this.#about(decision),
          decision: 'rejected',
          reason: decision.reason,
          ...messageIdOf(message),
        });
        await this.#inbox.delete(message);
        // Off the loop: the sender retries (and spools) on its own, the next message need not wait.
        this.#inBackground(
          this.#replies.send({
            v: MESSAGE_VERSION,
            ...this.#origin(),
            type: 'rejected',
            ...requestRef(decision.request),
            reason: decision.reason,
          }),
        );
        return;
      case 'cancel':
        await this.#dedupe!.flush();
        await this.#inbox.delete(message);
        await this.#cancel(decision.request, decision.key);
        return;
      case 'accept': {
        await this.#durable(decision.key);
        // The ack goes out on its own (retried, or kept on disk): the next message need not wait for it.
        this.#scheduleAck(decision.key, decision.request);
        this.#queue.enqueue(decision.key, decision.request);
        await this.#inbox.delete(message);
        return;
      }
    }
  }

  /** Waits until the claim of `key` is on disk; if it cannot be, forgets it (the message comes back) and throws. */
  async #durable(key: string): Promise<void> {
    try {
      await this.#dedupe!.flush();
    } catch (error: unknown) {
      this.#dedupe!.forget(key);
      throw error;
    }
  }

  #inBackground(work: Promise<unknown>): void {
    const tracked = work.catch((error: unknown) => this.#log.error('a background reply failed', { error }));
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  /**
   * Acks `key` the ack delay after its command starts (see {@link #commandStarted}), or at the
   * deadline after receipt if it has not started by then ({@link ackDeadlineMs}: a command waiting
   * for a slot, or queued behind others in the command launcher), unless its result is sent first
   * (see {@link #ackSent}); with no delay, at once. Counting from the start, a short command that
   * had to wait to be spawned is still answered by its result alone.
   */
  #scheduleAck(key: string, request: SignedRequest): PendingAck {
    const now = this.#now();
    const delayMs = this.#settings.ackDelayMs ?? DEFAULT_ACK_DELAY_MS;
    const pending: PendingAck = {
      delayMs,
      deadline: now + ackDeadlineMs(request.expiresAt, now, delayMs),
      send: () => {
        pending.timer = undefined;
        // The sender retries and logs on its own; a lost ack is made good by the result.
        pending.sent ??= this.#replies
          .send({ v: MESSAGE_VERSION, ...this.#origin(), type: 'ack', ...requestRef(request) })
          .then(() => undefined);
      },
    };
    if (delayMs > 0) pending.timer = setTimeout(pending.send, pending.deadline - now);
    else pending.send();
    this.#acks.set(key, pending);
    return pending;
  }

  /** The command of `key` started: its ack is due the ack delay from now, or at its deadline if sooner. */
  #commandStarted(key: string): void {
    const pending = this.#acks.get(key);
    if (pending === undefined || pending.timer === undefined) return;
    const now = this.#now();
    const at = Math.min(pending.deadline, now + pending.delayMs);
    clearTimeout(pending.timer);
    pending.timer = setTimeout(pending.send, Math.max(0, at - now));
  }

  /**
   * Before a result is sent: an ack still waiting for its delay is not sent at all (the result
   * stands for it); one already on its way is waited for, so the run reads in order.
   */
  async #ackSent(key: string): Promise<void> {
    const pending = this.#acks.get(key);
    if (pending === undefined) return;
    this.#acks.delete(key);
    clearTimeout(pending.timer);
    await pending.sent;
  }

  /** A cancel stops the command if it runs, keeps it from starting if it waits, and forestalls it otherwise. */
  async #cancel(request: SignedRequest, key: string): Promise<void> {
    const found = this.#queue.cancel(key);
    let outcome: string;
    if (found?.state === 'running') {
      outcome = 'stopping the running command';
    } else if (found?.state === 'waiting') {
      outcome = 'the command was waiting for a slot: it will not start';
      this.#inBackground(this.#reportNotRun(key, found.item, 'cancelled before it started', true));
    } else if (this.#dedupe!.claim(key, 'cancelled')) {
      await this.#dedupe!.flush();
      outcome = 'the request has not arrived: it will not run';
    } else {
      outcome = `nothing to cancel: the request is already ${this.#dedupe!.stateOf(key) ?? 'finished'}`;
    }
    this.#log.info('cancel received', { runId: request.runId, batch: request.batch, outcome });
    this.#audit.record({
      ...this.#about({ request }),
      decision: 'accepted',
      outcome,
    });
  }

  async #run(key: string, request: SignedRequest, signal: AbortSignal): Promise<void> {
    try {
      const s = this.#settings;
      const result: ExecutionResult =
        request.action === 'ping' || !request.command
          ? notRunResult(this.#now(), { exitCode: 0 })
          : await this.#executeCommand(request.command, {
              timeoutSec: request.timeoutSec,
              env: commandEnv(s, request),
              outputCapBytes: s.outputCapBytes,
              // So the result fits one SQS message and one DynamoDB item, whatever the cap.
              outputBudgetBytes: RESULT_OUTPUT_BUDGET_BYTES,
              killGraceMs: s.killGraceMs,
              signal,
              onStart: () => this.#commandStarted(key),
              ...(s.runAs ? { uid: s.runAs.uid, gid: s.runAs.gid } : {}),
            });
      await this.#ackSent(key);
      await this.#replies.send(resultReply(this.#origin(), request, result));
      this.#dedupe!.markDone(key);
      this.#audit.record({
        ...this.#about({ request }),
        decision: 'accepted',
        exitCode: result.exitCode,
        ...(result.signal ? { signal: result.signal } : {}),
        ...(result.timedOut ? { timedOut: true } : {}),
        ...(result.cancelled ? { cancelled: true } : {}),
        durationMs: result.endedAt - result.startedAt,
      });
    } catch (error: unknown) {
      this.#log.error('execution failed', { runId: request.runId, batch: request.batch, error });
    }
  }

  /** Reports a request that was taken on but never started, and records it as done. */
  async #reportNotRun(key: string, request: SignedRequest, error: string, cancelled: boolean): Promise<void> {
    await this.#ackSent(key);
    await this.#replies.send(
      resultReply(this.#origin(), request, notRunResult(this.#now(), { exitCode: null, cancelled, error })),
    );
    this.#dedupe!.markDone(key);
    this.#audit.record({
      ...this.#about({ request }),
      decision: 'accepted',
      exitCode: null,
      cancelled,
      reason: error,
    });
  }

  /** Requests claimed before a crash never reported a result: say so, once. */
  async #reportInterrupted(): Promise<void> {
    for (const key of this.#dedupe!.startedButNotDone()) {
      const match = /^(.+)#(\d+)$/.exec(key);
      if (!match) continue;
      const [runId, batch] = [match[1]!, Number(match[2])];
      await this.#replies.send(
        resultReply(
          this.#origin(),
          { runId, batch },
          notRunResult(this.#now(), { exitCode: null, error: INTERRUPTED }),
        ),
      );
      this.#dedupe!.markDone(key);
      this.#audit.record({
        decision: 'accepted',
        nodeId: this.#settings.nodeId,
        runId,
        batch,
        reason: INTERRUPTED,
      });
      this.#log.warn('reported a request interrupted by a restart', { runId, batch });
    }
  }

  #about(decision: Pick<GateDecision, 'request'>): Omit<AuditEntry, 'decision'> {
    const r = decision.request;
    return {
      nodeId: this.#settings.nodeId,
      ...(r
        ? {
            runId: r.runId,
            batch: r.batch,
            action: r.action,
            ...(r.caller ? { caller: r.caller } : {}),
            ...(r.callerArn ? { callerArn: r.callerArn } : {}),
            ...(r.command ? { command: r.command } : {}),
          }
        : {}),
    };
  }

  #limits() {
    return { concurrency: this.#settings.concurrency, limit: this.#settings.queueLimit ?? 100 };
  }

  #origin() {
    return { nodeId: this.#settings.nodeId, identity: this.#settings.identity, sentAt: this.#now() };
  }
}

/** What a reply echoes of its request: the run, the batch and the dispatch group it counts in. */
const requestRef = (r: SignedRequest) => ({
  runId: r.runId,
  batch: r.batch,
  ...(r.group !== undefined ? { group: r.group } : {}),
});

interface PendingAck {
  /** The ack delay, counted from the command's start. */
  delayMs: number;
  /** When the ack goes out at the latest, started or not (epoch ms). */
  deadline: number;
  send: () => void;
  /** Set while the ack waits. */
  timer?: NodeJS.Timeout;
  sent?: Promise<void>;
}

const messageIdOf = (message: Message) => (message.MessageId ? { messageId: message.MessageId } : {});

/** The identity an agent uses off EC2. */
