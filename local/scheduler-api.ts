/**
 * The local scheduler's HTTP face: the restJson1 protocol of EventBridge Scheduler, as the real
 * `@aws-sdk/client-scheduler` speaks it (reached through `AWS_ENDPOINT_URL_SCHEDULER`):
 * `POST|GET|PUT|DELETE /schedules/{Name}` and `GET /schedules`, errors as a status code with the
 * `x-amzn-ErrorType` header and a `{Message}` body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LocalScheduler } from './scheduler.ts';
import { SchedulerApiError, type ScheduleInput } from './scheduler-validation.ts';

type Body = Record<string, unknown>;

function route(scheduler: LocalScheduler, method: string, url: URL, body: Body): Body {
  const query = Object.fromEntries(url.searchParams) as Record<string, string>;
  if (url.pathname === '/schedules' && method === 'GET') return scheduler.list(query);
  const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
  if (!match)
    throw new SchedulerApiError('ResourceNotFoundException', `No route for ${method} ${url.pathname}`);
  const name = decodeURIComponent(match[1]!);
  const input = { ...body, Name: name } as unknown as ScheduleInput;
  switch (method) {
    case 'POST':
      return scheduler.create(input);
    case 'PUT':
      return scheduler.update(input);
    case 'GET':
      return { ...scheduler.get(name, query.groupName) };
    case 'DELETE':
      scheduler.delete(name, query.groupName);
      return {};
    default:
      throw new SchedulerApiError('ValidationException', `Unsupported method ${method}`);
  }
}

export function createSchedulerServer(scheduler: LocalScheduler): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: Body, errorType?: string) => {
        res.writeHead(status, {
          'content-type': 'application/json',
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        res.end(JSON.stringify(body));
      };
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Body = {};
        try {
          body = text ? (JSON.parse(text) as Body) : {};
        } catch {
          throw new SchedulerApiError('ValidationException', 'The request body is not valid JSON.');
        }
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        reply(200, route(scheduler, req.method ?? 'GET', url, body));
      } catch (error: unknown) {
        if (error instanceof SchedulerApiError)
          return reply(error.status, { Message: error.message }, error.type);
        reply(
          500,
          { Message: error instanceof Error ? error.message : String(error) },
          'InternalServerException',
        );
      }
    });
  });
}
