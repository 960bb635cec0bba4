/** The loopback endpoint of the local Auto Scaling (AWS query protocol; `AWS_ENDPOINT_URL_AUTO_SCALING`). */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { AutoScalingApiError, errorXml, parseQuery, resultXml } from './autoscaling-xml.ts';
import type { LocalAutoScaling } from './autoscaling.ts';

export function createAutoScalingServer(autoscaling: LocalAutoScaling): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestId = randomUUID();
      const params = parseQuery(Buffer.concat(chunks).toString('utf8'));
      const action = params.get('Action') ?? '';
      const reply = (status: number, xml: string) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
        res.end(xml);
      };
      try {
        reply(200, resultXml(action, autoscaling.call(action, params), requestId));
      } catch (error: unknown) {
        const apiError =
          error instanceof AutoScalingApiError
            ? error
            : new AutoScalingApiError(
                'InternalFailure',
                error instanceof Error ? error.message : String(error),
                500,
              );
        reply(apiError.status, errorXml(apiError, requestId));
      }
    });
  });
}

/**
 * The local Auto Scaling with its groups (`web` and `db`, 0 to 20 instances, like the demo roles)
 * on a loopback port; instances are agent processes, events go to `bus`.
 */
export async function startLocalAutoScaling(options: {
  home: string;
  root: string;
  bus: { put(entry: { Source: string; DetailType: string; Detail: string; EventBusName: string }): unknown };
  listen: (server: Server) => Promise<number>;
}): Promise<{ endpoint: string; autoscaling: LocalAutoScaling; stop(): Promise<void> }> {
  const { LocalAutoScaling } = await import('./autoscaling.ts');
  const { scaledAgents } = await import('./scaled-agents.ts');
  const agents = scaledAgents({ home: options.home, root: options.root });
  const autoscaling = new LocalAutoScaling({
    start: agents.start,
    stop: agents.stop,
    publish: (entry) => void options.bus.put(entry),
  });
  for (const group of ['web', 'db']) autoscaling.createGroup(group);
  const server = createAutoScalingServer(autoscaling);
  const port = await options.listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    autoscaling,
    async stop() {
      autoscaling.stop();
      await agents.stopAll();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
