/**
 * The simulated fleet in its worker thread: the fake agents (fleet.ts) with an SQS client whose
 * connections go over a MessagePort to the emulator on the main thread (port-connection.ts), each
 * call delayed by the latency profile and counted here (delaying-handler.ts). Driven by
 * fleet-thread.ts: `reset`, `snapshot`, `stop`; it reports its receives in flight as they change.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startFakeAgents } from './fleet.ts';
import { DelayingHandler } from './delaying-handler.ts';
import { profileDelay } from './latency-proxy.ts';
import { memoryAgent } from './memory-connection.ts';
import { PortLink } from './port-connection.ts';
import type { FleetWorkerData, FleetWorkerMessage } from './fleet-thread.ts';

const data = workerData as FleetWorkerData;
const port = parentPort!;
const link = new PortLink(data.port);
const handler = new DelayingHandler(
  new NodeHttpHandler({ httpAgent: memoryAgent(() => link.connect()) }),
  (operation) => profileDelay(data.profile, operation, data.latencyScale),
);
const sqs = new SQSClient({
  region: data.region,
  credentials: data.credentials,
  endpoint: data.endpoint,
  maxAttempts: 3,
  cacheMiddleware: true,
  requestHandler: handler,
});
// As shared/aws.ts does for every client: the SDK's logger middleware copies each call for nothing.
sqs.middlewareStack.remove('loggerMiddleware');
const agents = startFakeAgents(data.fleet, { sqs, repliesQueueUrl: data.repliesQueueUrl });

const post = (message: FleetWorkerMessage) => port.postMessage(message);
let lastReported = -1;
const reporter = setInterval(() => {
  const receives = handler.inFlight.get('ReceiveMessage') ?? 0;
  if (receives !== lastReported) post({ type: 'inflight', receives });
  lastReported = receives;
}, 100);

port.on('message', (message: { type: 'reset' | 'snapshot' | 'stop' }) => {
  if (message.type === 'reset') handler.reset();
  if (message.type !== 'stop') {
    post({ type: message.type, counts: handler.snapshot(), times: { ...agents.times } });
    return;
  }
  clearInterval(reporter);
  void agents.stop().then(() => {
    const last = { counts: handler.snapshot(), times: { ...agents.times } };
    sqs.destroy();
    link.close();
    post({ type: 'stop', ...last });
  });
});
