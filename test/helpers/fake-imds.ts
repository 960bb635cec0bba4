/**
 * A fake EC2 instance metadata service (IMDSv2) on 127.0.0.1: a session token first, then
 * metadata paths with it. Tests point the agent's `metadata_endpoint` here; nothing reaches the
 * real service.
 */
import { createServer, type Server } from 'node:http';

export interface FakeImds {
  url: string;
  /** Every request, as `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

export const INSTANCE = {
  'instance-id': 'i-0123456789abcdef0',
  'instance-type': 'm7g.large',
  'ami-id': 'ami-0abcdef1234567890',
  'placement/region': 'eu-west-1',
  'placement/availability-zone': 'eu-west-1b',
  'local-ipv4': '10.1.2.3',
  'tags/instance/aws:autoscaling:groupName': 'web-asg',
};

export async function startFakeImds(metadata: Record<string, string> = INSTANCE): Promise<FakeImds> {
  const token = 'test-token';
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return void res.writeHead(400).end();
      return void res.end(token);
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== token) return void res.writeHead(401).end();
    const path = (req.url ?? '').replace(/^\/latest\/meta-data\//, '');
    const value = metadata[path];
    if (value === undefined) return void res.writeHead(404).end();
    res.end(value);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
