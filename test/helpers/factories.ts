/** Builders of messages and records for tests, with sensible defaults. */
import {
  MESSAGE_VERSION,
  type ResultReply,
  type AckReply,
  type HeartbeatReply,
  type RejectedReply,
  type SignedRequest,
} from '#shared/messages.ts';
import type { NodeItem, NodeRunItem, RunMetaItem, RunSummary } from '#shared/runs-table.ts';

export function ackReply(overrides: Partial<AckReply> = {}): AckReply {
  return {
    v: MESSAGE_VERSION,
    type: 'ack',
    nodeId: 'web-1',
    identity: 'web-1',
    sentAt: 1,
    runId: 'RUN',
    batch: 0,
    ...overrides,
  };
}

export function resultReply(overrides: Partial<ResultReply> = {}): ResultReply {
  return {
    v: MESSAGE_VERSION,
    type: 'result',
    nodeId: 'web-1',
    identity: 'web-1',
    sentAt: 1,
    runId: 'RUN',
    batch: 0,
    exitCode: 0,
    signal: null,
    timedOut: false,
    stdout: { text: 'ok\n', bytes: 3, truncated: false },
    stderr: { text: '', bytes: 0, truncated: false },
    startedAt: 100,
    endedAt: 150,
    ...overrides,
  };
}

export function heartbeatReply(overrides: Partial<HeartbeatReply> = {}): HeartbeatReply {
  return {
    v: MESSAGE_VERSION,
    type: 'heartbeat',
    nodeId: 'web-1',
    identity: 'web-1',
    sentAt: Date.now(),
    inbox: 'http://127.0.0.1:1/000000000000/drover-test-node-web-1',
    facts: { role: 'web' },
    classes: ['nginx'],
    agentVersion: '0.1.0',
    heartbeatSec: 60,
    startedAt: Date.now(),
    ...overrides,
  };
}

export function signedRequest(overrides: Partial<SignedRequest> = {}): SignedRequest {
  const now = Date.now();
  return {
    v: MESSAGE_VERSION,
    runId: '01TESTRUN00000000000000000',
    batch: 0,
    action: 'exec',
    command: { shell: 'true' },
    timeoutSec: 10,
    issuedAt: now,
    expiresAt: now + 60_000,
    filter: { with: [], fact: [], class: [], identity: [] },
    targets: ['web-1'],
    caller: 'tester',
    ...overrides,
  };
}

export function nodeRunItem(overrides: Partial<NodeRunItem> = {}): NodeRunItem {
  return {
    runId: 'RUN',
    sk: `node#${overrides.nodeId ?? 'web-1'}`,
    nodeId: 'web-1',
    identity: 'web-1',
    batch: 0,
    inbox: 'http://127.0.0.1:1/q',
    status: 'succeeded',
    exitCode: 0,
    startedAt: 100,
    endedAt: 150,
    ackedAt: 90,
    resultAt: 160,
    expiresAt: 0,
    ...overrides,
  };
}

export function rejectedReply(overrides: Partial<RejectedReply> = {}): RejectedReply {
  return {
    v: MESSAGE_VERSION,
    type: 'rejected',
    nodeId: 'web-1',
    identity: 'web-1',
    sentAt: 1,
    runId: 'RUN',
    batch: 0,
    reason: 'facts no longer match the filter',
    ...overrides,
  };
}

/** A row of the nodes (facts) table, heartbeating every 60 s and last seen at `lastSeen`. */
export function nodeItem(overrides: Partial<NodeItem> = {}): NodeItem {
  const nodeId = overrides.nodeId ?? 'i-web1';
  return {
    nodeId,
    identity: 'web-1',
    facts: { role: 'web' },
    classes: ['nginx'],
    inbox: `http://127.0.0.1:1/000000000000/drover-test-node-${nodeId}`,
    agentVersion: '0.1.0',
    heartbeatSec: 60,
    lastSeen: 1_000_000,
    joinedAt: 0,
    startedAt: 0,
    expiresAt: 0,
    ...overrides,
  };
}

/** A run summary where every host succeeded; override counts to describe other outcomes. */
export function runSummary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    expected: 1,
    discovered: 1,
    succeeded: 1,
    failed: 0,
    timedOut: 0,
    noResponse: 0,
    rejected: 0,
    unreachable: 0,
    skipped: 0,
    cancelled: 0,
    late: 0,
    exitCodes: { '0': 1 },
    durationMs: { p50: 50, p95: 50, max: 50 },
    exitCode: 0,
    ...overrides,
  };
}

/** The meta item of a run of `uptime` on every web server, started at 1000 ms and finished. */
export function runMetaItem(overrides: Partial<RunMetaItem> = {}): RunMetaItem {
  return {
    runId: 'RUN',
    sk: 'meta',
    status: 'succeeded',
    action: 'exec',
    command: { shell: 'uptime' },
    filter: { with: [], fact: ['role=web'], class: [], identity: [] },
    options: { timeoutSec: 60, discoveryTimeoutSec: 10, batchSleepSec: 0, staleAfterHeartbeats: 3 },
    caller: 'tester',
    createdAt: 1_000,
    startedAt: 1_000,
    finishedAt: 2_500,
    expected: 1,
    batchCount: 1,
    summary: runSummary(),
    expiresAt: 0,
    ...overrides,
  };
}
