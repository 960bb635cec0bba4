/**
 * An HTTP proxy on 127.0.0.1 in front of the local DynamoDB that fails chosen calls the way the
 * service can: after applying them (the write is done, the answer is a 500, so the SDK retries a
 * write that already happened) or without applying them at all.
 */
import { forward, reply, startProxyServer, type Answer } from '../../chaos/forward.ts';

/** `applied`: forwarded, then answered 500. `refused`: answered 500 without being forwarded. */
export type DynamoFault = 'applied' | 'refused';

export interface DynamoCall {
  /** The operation, e.g. `UpdateItem`. */
  operation: string;
  body: Record<string, unknown>;
}

export interface DynamoFaultProxy {
  url: string;
  /** Calls that were answered with a fault so far. */
  faults: DynamoCall[];
  /** Fails calls `matches` picks, `times` times in all (Infinity for always); replaces any rule. */
  fail(fault: DynamoFault, matches: (call: DynamoCall) => boolean, times?: number): void;
  close(): Promise<void>;
}

const INTERNAL_ERROR: Answer = {
  status: 500,
  headers: { 'content-type': 'application/x-amz-json-1.0' },
  body: Buffer.from(
    JSON.stringify({
      __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
      message: 'Internal server error',
    }),
  ),
};
/** What the client gets when the emulator behind cannot be reached. */
const UNREACHABLE: Answer = { status: 502, headers: {}, body: Buffer.alloc(0) };

export async function startDynamoFaultProxy(targetUrl: string): Promise<DynamoFaultProxy> {
  const target = new URL(targetUrl);
  let rule: { fault: DynamoFault; matches: (call: DynamoCall) => boolean; left: number } | undefined;
  const faults: DynamoCall[] = [];

  const server = await startProxyServer(async (req, res, body) => {
    const operation =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    let call: DynamoCall | undefined;
    try {
      call = { operation, body: JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown> };
    } catch {
      call = undefined;
    }
    const faulty = call && rule && rule.left > 0 && rule.matches(call) ? rule : undefined;
    if (faulty && call) {
      faulty.left--;
      faults.push(call);
      // 'applied': the write is done before the 500, so the SDK's retry repeats a write that happened.
      if (faulty.fault === 'applied') await forward(target, req, body).catch(() => undefined);
      return reply(res, INTERNAL_ERROR);
    }
    reply(res, await forward(target, req, body).catch(() => UNREACHABLE));
  });
  return {
    url: server.url,
    faults,
    fail(fault, matches, times = 1) {
      rule = { fault, matches, left: times };
    },
    close: server.close,
  };
}

/** True for an UpdateItem on the item whose sort key starts with `skPrefix`. */
export function updateOf(skPrefix: string): (call: DynamoCall) => boolean {
  return ({ operation, body }) => {
    const key = body.Key as { sk?: { S?: string } } | undefined;
    return operation === 'UpdateItem' && (key?.sk?.S ?? '').startsWith(skPrefix);
  };
}
