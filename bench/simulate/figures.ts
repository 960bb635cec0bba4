/**
 * The figures of one simulated run: phases from the run record's timestamps (measured), AWS calls
 * counted at the latency proxies (measured), DynamoDB capacity units worked out from the payload
 * sizes (approximate), and what no proxy sees — Step Functions events, Lambda invocations, KMS
 * signatures — counted from the state machine's shape and the cost model (modeled), with the
 * latency the profile gives them added to a modeled end-to-end time.
 */
import type { RunMetaItem, RunSummary } from '#shared/runs-table.ts';
import { defaultAssumptions, monthlyUsage } from '../../cli/cost/model.ts';
import { estimateRunCost } from '../../cli/cost/run-cost.ts';
import type { CallRecord, ServiceProfile } from './latency-proxy.ts';
import type { AgentTimes, SimulatedFleet } from './fleet.ts';
import type { PlanMemory } from './plan-memory.ts';
import { AS_BUILT, LAYOUTS, modelLayouts, modelRun } from './aws-model.ts';

export type Profile = Record<'sqs' | 'dynamodb' | 'stepFunctions' | 'lambda' | 'kms', ServiceProfile>;

/** Lambda task invocations besides the run steps' (in the history): none; ingest's are modeled. */
const SIGNING_GROUP = 500;
/** Step Functions limits (AWS Step Functions quotas): history events per execution, state payload. */
export const SFN_MAX_EVENTS = 25_000;
export const SFN_MAX_PAYLOAD_BYTES = 256 * 1024;
/** Lambda: 15 minutes per invocation; Plan has 512 MB (serverless.yml). */
export const PLAN_MEMORY_BYTES = 512 * 1024 * 1024;

const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const READ_OPS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);

export interface SimulationInput {
  hosts: number;
  fleet: SimulatedFleet;
  meta: RunMetaItem;
  /** The first batch's record: when it was dispatched and its two waits were released. */
  batch: { dispatchedAt?: number; acksDoneAt?: number; resultsDoneAt?: number } | undefined;
  execution: { status: string; input: string; output: string };
  /** The execution's history as the local Step Functions recorded it (AWS's event types), counted by type. */
  history: Record<string, number>;
  agents: AgentTimes;
  sqs: Record<string, CallRecord>;
  dynamodb: Record<string, CallRecord>;
  memory: PlanMemory;
  profile: Profile;
  latencyScale: number;
  wallMs: number;
}

const ms = (profile: ServiceProfile, op: string): number => {
  const entry = profile[op] ?? profile.default;
  return typeof entry === 'object' ? entry.ms : 0;
};
const total = (calls: Record<string, CallRecord>) => Object.values(calls).reduce((s, r) => s + r.calls, 0);
const span = (from?: number, to?: number) => (from !== undefined && to !== undefined ? to - from : null);

/** Capacity units from payload sizes: writes 1 KB a unit, reads 4 KB (Scan eventually consistent: half). */
function capacityUnits(calls: Record<string, CallRecord>) {
  let read = 0;
  let write = 0;
  for (const [op, r] of Object.entries(calls)) {
    if (WRITE_OPS.has(op)) write += Math.max(r.calls, Math.ceil(r.requestBytes / 1024));
    if (READ_OPS.has(op)) {
      const units = Math.max(r.calls, Math.ceil(r.responseBytes / 4096));
      read += op === 'Scan' ? units / 2 : units;
    }
  }
  return { read, write };
}

export function runFigures(input: SimulationInput) {
  const { meta, profile, hosts, batch: b } = input;
  const batches = Math.max(1, meta.batchCount);
  // Measured: every state entered is a transition, every task scheduled a Lambda invocation.
  const count = (match: (type: string) => boolean) =>
    Object.entries(input.history).reduce((sum, [type, n]) => sum + (match(type) ? n : 0), 0);
  const events = count(() => true);
  const transitions = count((type) => type.endsWith('StateEntered'));
  const tasks = count((type) => type === 'TaskScheduled');
  const signs = batches * Math.ceil(hosts / batches / SIGNING_GROUP);
  const oneRun = {
    ...defaultAssumptions(),
    hosts,
    hostsPerRun: hosts,
    runsPerDay: 1 / 30,
    heartbeatSeconds: Infinity,
  };
  const model = monthlyUsage(oneRun);
  const modeledMs =
    transitions * ms(profile.stepFunctions, 'transition') +
    tasks * ms(profile.lambda, 'invoke') +
    signs * ms(profile.kms, 'Sign');
  const measuredMs = span(meta.startedAt, meta.finishedAt) ?? input.wallMs;
  const cost = estimateRunCost({
    hosts: meta.expected,
    batches,
    outputBytes: meta.expected * 12,
    fleetHosts: hosts,
    watchSeconds: 0,
  });
  const stateBytes = Math.max(
    Buffer.byteLength(input.execution.input),
    Buffer.byteLength(input.execution.output),
  );
  return {
    ...outcomes(input),
    latencyScale: input.latencyScale,
    factsKbAverage: Math.round(input.fleet.factsBytes / hosts / 102.4) / 10,
    phasesMs: {
      plan: span(meta.startedAt, meta.plannedAt),
      dispatch: span(meta.plannedAt, b?.dispatchedAt),
      firstAck: span(b?.dispatchedAt, input.agents.firstAckAt),
      lastAck: span(b?.dispatchedAt, b?.acksDoneAt ?? meta.lastAckAt),
      results: span(b?.acksDoneAt ?? meta.lastAckAt, b?.resultsDoneAt ?? meta.lastResultAt),
      finish: span(b?.resultsDoneAt ?? meta.lastResultAt, meta.finishedAt),
      endToEnd: measuredMs,
      wall: input.wallMs,
    },
    stepFunctions: {
      note: "measured: the local execution's history, in AWS's event types",
      historyEvents: events,
      historyEventsHeadroom: Math.floor((1 - events / SFN_MAX_EVENTS) * 1000) / 10,
      mapIterations: input.history.MapIterationStarted ?? 0,
      transitions,
      lambdaTaskInvocations: tasks,
    },
    /** The layout the code builds (aws-model.ts AS_BUILT), and the run modeled in it. */
    awsAsBuilt: AS_BUILT,
    aws: modelRun(hosts, input.fleet.factsBytes / hosts, profile, LAYOUTS[AS_BUILT]),
    awsLayouts: modelLayouts(hosts, input.fleet.factsBytes / hosts, profile),
    modeled: {
      note: 'not seen by the proxies: counted from the history and the cost model, latencies from the profile',
      lambdaIngestInvocations: Math.ceil(model.lambda.ingestInvocations),
      kmsSigns: signs,
      addedLatencyMs: modeledMs,
      endToEndMs: measuredMs + modeledMs,
    },
    stateBytes: { largest: stateBytes, limit: SFN_MAX_PAYLOAD_BYTES },
    sqs: { requests: total(input.sqs), byOperation: input.sqs },
    dynamodb: {
      requests: total(input.dynamodb),
      ...capacityUnits(input.dynamodb),
      byOperation: input.dynamodb,
    },
    plan: { ...input.memory, lambdaMemoryBytes: PLAN_MEMORY_BYTES },
    costUsd: cost.usd,
    costByService: cost.byService,
  };
}

export type SimulationReport = ReturnType<typeof runFigures>;

/** Whether every host succeeded, and how many did not, by outcome. */
function outcomes({ execution, meta, hosts }: SimulationInput) {
  return {
    ok: execution.status === 'SUCCEEDED' && meta.summary?.succeeded === hosts,
    hosts,
    status: meta.status,
    succeeded: meta.summary?.succeeded ?? 0,
    others: otherOutcomes(meta.summary),
  };
}

/** The hosts that did not succeed, by outcome (only the outcomes some host had). */
function otherOutcomes(summary: RunSummary | undefined): Record<string, number> {
  if (!summary) return {};
  const counts: Record<string, number> = {
    failed: summary.failed,
    'timed out': summary.timedOut,
    'no response': summary.noResponse,
    rejected: summary.rejected,
    unreachable: summary.unreachable,
    skipped: summary.skipped,
    cancelled: summary.cancelled,
  };
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count > 0));
}
