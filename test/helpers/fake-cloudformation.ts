/**
 * A CloudFormation endpoint on 127.0.0.1 that answers DescribeStacks (AWS query protocol, XML) for
 * the stacks it is given and a ValidationError for any other, as CloudFormation does. Tests point
 * the CLI at it with AWS_ENDPOINT_URL_CLOUDFORMATION.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCloudFormation {
  url: string;
  /** Stack names asked for, in order. */
  requests: string[];
  stacks: Map<string, Record<string, string>>;
  close(): Promise<void>;
}

const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function describeStacksXml(name: string, outputs: Record<string, string>): string {
  const members = Object.entries(outputs)
    .map(
      ([key, value]) =>
        `<member><OutputKey>${escape(key)}</OutputKey><OutputValue>${escape(value)}</OutputValue></member>`,
    )
    .join('');
  return (
    '<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' +
    '<DescribeStacksResult><Stacks><member>' +
    `<StackName>${escape(name)}</StackName>` +
    `<StackId>arn:aws:cloudformation:us-east-1:000000000000:stack/${escape(name)}/1</StackId>` +
    '<CreationTime>2026-01-01T00:00:00Z</CreationTime>' +
    '<StackStatus>UPDATE_COMPLETE</StackStatus>' +
    `<Outputs>${members}</Outputs>` +
    '</member></Stacks></DescribeStacksResult>' +
    '<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>' +
    '</DescribeStacksResponse>'
  );
}

function validationErrorXml(message: string): string {
  return (
    '<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">' +
    `<Error><Type>Sender</Type><Code>ValidationError</Code><Message>${escape(message)}</Message></Error>` +
    '<RequestId>fake</RequestId></ErrorResponse>'
  );
}

export async function startFakeCloudFormation(
  stacks: Record<string, Record<string, string>>,
): Promise<FakeCloudFormation> {
  const known = new Map(Object.entries(stacks));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const reply = (status: number, body: string) => {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(body);
      };
      if (form.get('Action') !== 'DescribeStacks') {
        return reply(400, validationErrorXml(`unsupported action ${form.get('Action')}`));
      }
      const name = form.get('StackName') ?? '';
      requests.push(name);
      const outputs = known.get(name);
      if (!outputs) return reply(400, validationErrorXml(`Stack with id ${name} does not exist`));
      reply(200, describeStacksXml(name, outputs));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stacks: known,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
