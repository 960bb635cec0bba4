/**
 * What one agent runs with: the settings start-up (startup.ts) derives from the configuration for
 * each logical agent of the process (`agentSettings`), and hands to `Agent` (agent.ts) on start and
 * on every reload.
 */
import { hostname } from 'node:os';
import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import { CommandPolicy } from '../receive/policy.ts';
import type { AgentConfig } from './config-schema.ts';
import type { TrustedKey } from './public-key.ts';
import type { RunAsUser } from '../execute/run-as.ts';

export interface AgentSettings {
  stage: string;
  nodeId: string;
  identity: string;
  repliesQueueUrl: string;
  /** On EC2, the instance's ARN: the inbox is tagged with it (`drover:instance`), see `instanceArn`. */
  instanceArn?: string;
  publicKey: KeyObject;
  /** The KMS key ARN `publicKey` belongs to, when pinned by `kms_key_id`. */
  publicKeyId?: string;
  /** While rotating: the next key, trusted for documents that name it (`kms_key_id: a,b`). */
  nextKeys?: { keyId: string; publicKey: KeyObject }[];
  /** Dedupe store (and, unless `auditPath` says otherwise, the audit log) live here. */
  stateDir: string;
  auditPath?: string;
  heartbeatSec: number;
  factsRefreshSec: number;
  factFiles: string[];
  classFiles: string[];
  factsCommand?: string;
  /** Facts the agent knows itself (EC2 identity), under those of the fact files. */
  baseFacts?: Record<string, unknown>;
  concurrency: number;
  /** Requests allowed to wait for a free slot; more are rejected as busy. 100 by default. */
  queueLimit?: number;
  outputCapBytes: number;
  killGraceMs: number;
  /**
   * How long an accepted request's ack waits for the command's result: a result sent sooner
   * stands for the ack (one reply instead of two), a longer command is acked when this runs out.
   * 0 acks at once. 250 ms by default.
   */
  ackDelayMs?: number;
  /** How long `stop()` lets running commands finish by default; 30 s. */
  shutdownGraceMs?: number;
  pollWaitSec: number;
  agentVersion: string;
  /** PATH given to commands. */
  commandPath: string;
  policy?: CommandPolicy;
  runAs?: RunAsUser;
  dedupe?: { maxEntries: number; maxAgeMs: number };
}

/** The identity of an agent whose configuration names none: the host's name. */
export const defaultIdentity = (): string => hostname();

/** What an agent's settings take besides the configuration: where it stands and what it trusts. */
export interface AgentPlace {
  stage: string;
  repliesQueueUrl: string;
  instanceArn?: string;
  /** The key requests are verified with, then any next keys (rotation); at least one. */
  keys: TrustedKey[];
  stateDir: string;
  baseFacts?: Record<string, unknown>;
  runAs?: RunAsUser | undefined;
  agentVersion: string;
}

/** One logical agent of the process: who it is and its own fact sources (`hosts_file`). */
export interface AgentSpec {
  nodeId: string;
  identity: string;
  facts: string[];
  classes: string[];
}

/** One logical agent's settings: the configuration's seconds as milliseconds, its paths resolved. */
export function agentSettings(c: AgentConfig, spec: AgentSpec, place: AgentPlace): AgentSettings {
  const [first, ...next] = place.keys as [TrustedKey, ...TrustedKey[]];
  return {
    stage: place.stage,
    nodeId: spec.nodeId,
    identity: spec.identity,
    repliesQueueUrl: place.repliesQueueUrl,
    ...(place.instanceArn !== undefined ? { instanceArn: place.instanceArn } : {}),
    publicKey: first.publicKey,
    ...(first.keyId !== undefined ? { publicKeyId: first.keyId } : {}),
    ...(next.length > 0 ? { nextKeys: next.map((k) => ({ keyId: k.keyId!, publicKey: k.publicKey })) } : {}),
    stateDir: place.stateDir,
    ...(c.audit_log !== undefined ? { auditPath: resolve(c.audit_log) } : {}),
    heartbeatSec: c.heartbeat_sec,
    factsRefreshSec: c.facts.refresh_sec,
    factFiles: [...c.facts.files, ...spec.facts].map((f) => resolve(f)),
    classFiles: [...c.facts.class_files, ...spec.classes].map((f) => resolve(f)),
    ...(c.facts.command !== undefined ? { factsCommand: c.facts.command } : {}),
    baseFacts: place.baseFacts,
    concurrency: c.concurrency,
    queueLimit: c.queue_limit,
    outputCapBytes: c.output_cap_bytes,
    killGraceMs: c.kill_grace_sec * 1000,
    ackDelayMs: c.ack_delay_sec * 1000,
    shutdownGraceMs: c.shutdown_grace_sec * 1000,
    pollWaitSec: c.poll_wait_sec,
    agentVersion: place.agentVersion,
    commandPath: c.command_path,
    policy: new CommandPolicy(c.policy),
    ...(place.runAs ? { runAs: place.runAs } : {}),
    dedupe: { maxEntries: c.dedupe.max_entries, maxAgeMs: c.dedupe.max_age_sec * 1000 },
  };
}
