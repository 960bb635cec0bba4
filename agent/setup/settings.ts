/**
 * What one agent runs with: the settings start-up (startup.ts) derives from the configuration for
 * each logical agent of the process, and hands to `Agent` (agent.ts) on start and on every reload.
 */
import { hostname } from 'node:os';
import type { KeyObject } from 'node:crypto';
import type { CommandPolicy } from '../receive/policy.ts';
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
