/**
 * Builds the dependencies of the run steps from the stage configuration and the process-wide
 * AWS clients, once per Lambda container (or per local runtime process).
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { defaultClients } from '#shared/aws.ts';
import { inboxQueueUrl, loadStageConfig, type StageConfig } from '#shared/stage-config.ts';
import { signerFor, type RequestSigner } from '#shared/signing.ts';
import { RunStore } from '#shared/stores/runs-store.ts';
import { NodesStore } from '#shared/stores/nodes-store.ts';
import { planWidths } from '#shared/large-fleet.ts';
import { ReplyLedger } from './reply-ledger.ts';
import type { RunEventPublisher } from './finish-run.ts';
import { ScheduleLock } from '#shared/stores/schedule-lock.ts';

const rootLogger = new Logger({ serviceName: 'drover' });

/**
 * A logger of its own for each handler module: `injectLambdaContext` writes the invocation's
 * function name and request id into the logger it is given, and in the local runtime every handler
 * lives in one process, so a shared logger would label one function's lines with another's name.
 */
export const handlerLogger = (): Logger => rootLogger.createChild();

let config: StageConfig | undefined;
export const stage = (): StageConfig => (config ??= loadStageConfig());

const now = (): number => Date.now();

let runs: RunStore | undefined;
let nodes: NodesStore | undefined;
let ledger: ReplyLedger | undefined;
let signer: RequestSigner | undefined;
let scheduleLock: ScheduleLock | undefined;

export const wiring = {
  now,
  // Plan's widths come from its environment (serverless.yml's planScanSegments/planWritesInFlight).
  runs: (): RunStore =>
    (runs ??= new RunStore(defaultClients.dynamo, stage().runsTable, planWidths().writesInFlight)),
  nodes: (): NodesStore =>
    (nodes ??= new NodesStore(defaultClients.dynamo, stage().nodesTable, planWidths().scanSegments)),
  ledger: (): ReplyLedger =>
    (ledger ??= new ReplyLedger({
      db: defaultClients.plainDynamo,
      sfn: defaultClients.sfn,
      table: stage().runsTable,
      now,
    })),
  signer: (): RequestSigner => (signer ??= signerFor(stage().signingKey, () => defaultClients.kms)),
  events: (): RunEventPublisher => eventPublisher(stage().eventBus),
  scheduleLock: (): ScheduleLock =>
    (scheduleLock ??= new ScheduleLock(defaultClients.dynamo, stage().runsTable)),
  /** A node's inbox URL, from the stage's replies queue URL and the node id (never a message). */
  inboxUrl: (nodeId: string): string => inboxQueueUrl(stage().repliesQueueUrl, stage().stage, nodeId),
};

/** Publishes to the stage's EventBridge bus; a stage without a bus publishes nothing. */
function eventPublisher(bus: string): RunEventPublisher {
  return {
    async publish(detailType, detail) {
      if (bus === '') return;
      const out = await defaultClients.events.send(
        new PutEventsCommand({
          Entries: [
            { EventBusName: bus, Source: 'drover', DetailType: detailType, Detail: JSON.stringify(detail) },
          ],
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        rootLogger.warn('event not published', { detailType, entries: out.Entries });
      }
    },
  };
}
