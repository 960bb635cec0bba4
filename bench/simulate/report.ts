/** The text report of a simulated run: phases, calls, units, limits and cost, each labelled. */
import { formatUsd } from '../../cli/cost/run-cost.ts';
import type { SimulationReport } from './figures.ts';
import type { Phase, RunModel } from './aws-model.ts';

const s = (msValue: number | null) => (msValue === null ? '-' : `${(msValue / 1000).toFixed(2)} s`);
const mb = (bytes: number | null) => (bytes === null ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
const n = (value: number) => Math.round(value).toLocaleString('en-US');

/** `, 641 rejected, 3 unreachable`: the hosts that did not succeed, by outcome. */
const others = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([outcome, count]) => `, ${n(count)} ${outcome}`)
    .join('');

export function reportText(r: SimulationReport): string {
  const p = r.phasesMs;
  const m = r.modeled;
  const lines = [
    `Simulated run on ${n(r.hosts)} hosts (facts ${r.factsKbAverage} KB on average): ${r.status}, ${n(r.succeeded)} succeeded${others(r.others)}`,
    `Latency profile ×${r.latencyScale} on every SQS and DynamoDB call. Measured on a shared, loaded 2-core machine: the`,
    'emulators and the fake agents share its CPU, so times are upper bounds of what the design costs.',
    '',
    'Phases (measured, run record timestamps):',
    `  plan ${s(p.plan)}   dispatch ${s(p.dispatch)}   first ack ${s(p.firstAck)}   last ack ${s(p.lastAck)}`,
    `  results ${s(p.results)}   finish ${s(p.finish)}   end to end ${s(p.endToEnd)}`,
    `  + Step Functions, Lambda and KMS latency (modeled): ${s(m.addedLatencyMs)} → ${s(m.endToEndMs)}`,
    '',
    'Per run:',
    `  SQS requests (measured)             ${n(r.sqs.requests)}`,
    `  DynamoDB requests (measured)        ${n(r.dynamodb.requests)}: ~${n(r.dynamodb.read)} RRU, ~${n(r.dynamodb.write)} WRU (from payload sizes)`,
    `  Step Functions history events       ${n(r.stepFunctions.historyEvents)} of 25,000 (${r.stepFunctions.historyEventsHeadroom}% headroom; measured, ${n(r.stepFunctions.mapIterations)} Dispatch groups)`,
    `  largest state / execution payload   ${n(r.stateBytes.largest)} bytes of 262,144`,
    `  Lambda invocations                  ${n(r.stepFunctions.lambdaTaskInvocations)} run steps (measured) + ${n(m.lambdaIngestInvocations)} ingest (modeled, worst case)`,
    `  KMS Sign (modeled)                  ${n(m.kmsSigns)}`,
    `  estimated AWS cost                  ${formatUsd(r.costUsd)}`,
    '',
    `Plan's read of the nodes table (${r.plan.segments} parallel scan segments, measured in this process):`,
    `  page by page, targets kept without facts: peak heap +${mb(r.plan.pagedPeakBytes)}, held +${mb(r.plan.pagedRetainedBytes)}, ${s(r.plan.pagedMs)} for ${n(r.plan.targets)} targets`,
    `  whole table held at once (as before):    peak heap +${mb(r.plan.wholePeakBytes)}, held +${mb(r.plan.wholeRetainedBytes)}, ${s(r.plan.wholeMs)}`,
    '  (peak includes pages not yet collected; held is after a full collection with the result in hand)',
    `  Plan's Lambda memory: ${mb(r.plan.lambdaMemoryBytes)}`,
  ];
  return [...lines, '', ...modelLines(r), '', ...layoutLines(r)].join('\n') + '\n';
}

const phase = (p: Phase) => `${s(p.ms)} (${p.bound})`;

/** The modeled AWS run as built: phases with the limit that binds each. */
function modelLines(r: SimulationReport): string[] {
  const m = r.aws;
  return [
    `In AWS, as built (${r.awsAsBuilt}) — MODELED: profile latencies, documented concurrency and throughput; not measured:`,
    `  ${m.batches} batch(es), ${n(m.groups)} dispatch groups; ~${n(m.writeUnits)} WCU, ~${n(m.busiestPartitionWriteUnits)} on the busiest partition`,
    `  plan ${phase(m.planMs)}`,
    `  dispatch ${m.dispatch.map(phase).join(', ')}`,
    `  ingest ${m.ingest.map(phase).join(', ')}`,
    `  end to end ≈ ${s(m.endToEndMs)}`,
  ];
}

/** Every tabulated layout, one line each: end to end and what binds ingest (MODELED). */
function layoutLines(r: SimulationReport): string[] {
  const rows = Object.entries(r.awsLayouts).map(([name, m]: [string, RunModel]) => {
    const ingest = m.ingest[0]!;
    return `  ${name.padEnd(46)} ${s(m.endToEndMs).padStart(9)}   ingest ${phase(ingest)}`;
  });
  return ['In AWS by layout (MODELED; docs/scale.md says which layout is which change):', ...rows];
}
