/**
 * EventBridge target of the rule matching `source: drover` on the stage's bus: appends every
 * drover event, whoever emitted it, to the event log that `drover events` reads.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { defaultClients } from '#shared/aws.ts';
import { busEventSchema } from '#shared/drover-events.ts';
import { EventLog, loggedEventOf } from '#shared/event-log.ts';
import { ConfigError } from '#shared/stage-config.ts';
import { handlerLogger } from './run/wiring.ts';

const logger = handlerLogger();
let log: EventLog | undefined;

function eventLog(): EventLog {
  const table = process.env.DROVER_EVENTS_TABLE;
  if (!table) throw new ConfigError('environment variable DROVER_EVENTS_TABLE is not set');
  return (log ??= new EventLog(defaultClients.dynamo, table));
}

export const handler = middy(async (event: unknown) => {
  // A malformed event throws: EventBridge retries it, then drops it (the rule has no DLQ to fill).
  const item = loggedEventOf(busEventSchema.parse(event));
  await eventLog().append(item);
  logger.info('event recorded', { type: item.type, id: item.id, nodeId: item.nodeId, runId: item.runId });
}).use(injectLambdaContext(logger));
