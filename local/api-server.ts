/**
 * The loopback HTTP endpoint for the AWS APIs the local stack provides itself: the Step Functions
 * JSON API subset drover uses and EventBridge PutEvents. The AWS SDK reaches it through
 * `AWS_ENDPOINT_URL_SFN` and `AWS_ENDPOINT_URL_EVENTBRIDGE`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SfnApiError,
  type ExecutionRecord,
  type ExecutionStatus,
  type LocalStepFunctions,
} from './step-functions.ts';
import type { LocalEventBus } from './event-bus.ts';
import { describeStateMachine, listStateMachines } from './state-machine-api.ts';
import { getCallerIdentity, isGetCallerIdentity } from './sts.ts';

type Body = Record<string, unknown>;
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function describe(record: ExecutionRecord): Body {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    stopDate: seconds(record.stopDate),
    input: record.input,
    output: record.output,
    error: record.error,
    cause: record.cause,
  };
}

/** One operation of the endpoint: the request's JSON body in, the answer's out. */
type Operation = (body: Body) => Body;

export function createApiServer(
  sfn: LocalStepFunctions,
  bus: LocalEventBus,
  /** SSM Parameter Store: name → value (the stage's published agent configuration). */
  parameters: Map<string, string> = new Map(),
  /** The secret every local principal signs with, to check STS requests' signatures. */
  secret = 'local',
): Server {
  const operations: Record<string, Operation> = {
    ...ssmOperations(parameters),
    ...stepFunctionsOperations(sfn),
    'AWSEvents.PutEvents': (b) => {
      const entries = (Array.isArray(b.Entries) ? b.Entries : []) as Body[];
      return { FailedEntryCount: 0, Entries: entries.map((e) => ({ EventId: bus.put(e) })) };
    },
  };

  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const target = String(req.headers['x-amz-target'] ?? '');
      if (!target && isGetCallerIdentity(req, raw)) {
        const { status, xml } = getCallerIdentity(req, raw, secret);
        res.writeHead(status, { 'content-type': 'text/xml' });
        return res.end(xml);
      }
      answer(res, operations[target], target, raw);
    });
  });
}

/** Runs `operation` on the JSON body `raw` and writes its answer, or the AWS error it raised. */
function answer(res: ServerResponse, operation: Operation | undefined, target: string, raw: string): void {
  const reply = (status: number, body: Body) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(body));
  };
  if (!operation)
    return reply(400, { __type: 'UnknownOperationException', message: `not supported: ${target}` });
  try {
    reply(200, operation(raw ? (JSON.parse(raw) as Body) : {}));
  } catch (error: unknown) {
    if (error instanceof SfnApiError) return reply(400, { __type: error.type, message: error.message });
    reply(500, {
      __type: 'InternalFailure',
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

/** SSM Parameter Store's GetParameter, over the stage's published parameters. */
function ssmOperations(parameters: Map<string, string>): Record<string, Operation> {
  return {
    'AmazonSSM.GetParameter': (b) => {
      const value = parameters.get(String(b.Name));
      if (value === undefined)
        throw new SfnApiError('ParameterNotFound', `Parameter ${String(b.Name)} not found.`);
      return { Parameter: { Name: b.Name, Type: 'String', Value: value, Version: 1 } };
    },
  };
}

/** The Step Functions JSON API subset drover (and a person with the AWS CLI) uses. */
function stepFunctionsOperations(sfn: LocalStepFunctions): Record<string, Operation> {
  return {
    'AWSStepFunctions.StartExecution': (b) => {
      const record = sfn.startExecution(
        String(b.stateMachineArn),
        typeof b.name === 'string' ? b.name : crypto.randomUUID(),
        typeof b.input === 'string' ? b.input : '{}',
      );
      return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
    },
    'AWSStepFunctions.DescribeExecution': (b) => describe(sfn.describeExecution(String(b.executionArn))),
    'AWSStepFunctions.StopExecution': (b) => ({
      stopDate: seconds(
        sfn.stopExecution(
          String(b.executionArn),
          b.error as string | undefined,
          b.cause as string | undefined,
        ),
      ),
    }),
    'AWSStepFunctions.ListExecutions': (b) => listExecutions(sfn, b),
    'AWSStepFunctions.SendTaskSuccess': (b) => {
      sfn.sendTaskSuccess(String(b.taskToken), String(b.output));
      return {};
    },
    'AWSStepFunctions.SendTaskFailure': (b) => {
      sfn.sendTaskFailure(String(b.taskToken), b.error as string | undefined, b.cause as string | undefined);
      return {};
    },
    'AWSStepFunctions.SendTaskHeartbeat': (b) => {
      sfn.sendTaskHeartbeat(String(b.taskToken));
      return {};
    },
    'AWSStepFunctions.GetExecutionHistory': (b) => sfn.executionHistory(String(b.executionArn)).page(b),
    'AWSStepFunctions.DescribeStateMachine': (b) =>
      describeStateMachine(sfn.describeStateMachine(String(b.stateMachineArn))),
    'AWSStepFunctions.ListStateMachines': (b) => listStateMachines(sfn.listStateMachines(), b),
  };
}

function listExecutions(sfn: LocalStepFunctions, b: Body): Body {
  const all = sfn.listExecutions(String(b.stateMachineArn), b.statusFilter as ExecutionStatus | undefined);
  const start = typeof b.nextToken === 'string' ? Number(b.nextToken) : 0;
  const max = typeof b.maxResults === 'number' && b.maxResults > 0 ? b.maxResults : 100;
  const page = all.slice(start, start + max);
  return {
    executions: page.map((r) => ({
      executionArn: r.executionArn,
      stateMachineArn: r.stateMachineArn,
      name: r.name,
      status: r.status,
      startDate: seconds(r.startDate),
      stopDate: seconds(r.stopDate),
    })),
    nextToken: start + max < all.length ? String(start + max) : undefined,
  };
}

/** Listens on 127.0.0.1 (port 0 = any free port); resolves with the bound port. */
export function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePort((server.address() as AddressInfo).port));
  });
}
