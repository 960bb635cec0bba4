/**
 * Hosts the control-plane handlers in this process, the way Lambda hosts them in AWS: each
 * function's module is loaded once from its deploy path and invoked with an event and a context.
 */
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTROL_PLANE_FUNCTIONS, type FunctionName } from './functions.ts';
import type { LambdaBundles } from './lambda-bundles.ts';

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * Wraps every invocation (tests inject Lambda's own faults with it, e.g. a response lost after the
 * function ran, which Step Functions sees as `Lambda.ServiceException` and retries).
 */
export type InvokeFault = (
  name: FunctionName,
  event: unknown,
  invoke: () => Promise<unknown>,
) => Promise<unknown>;

/** Lambda's quota for a synchronous invocation's request payload (6 MB). */
export const MAX_SYNC_REQUEST_BYTES = 6_291_456;
/** The response limit Lambda reports when a function answers with more (6 MB and 100 bytes). */
export const MAX_SYNC_RESPONSE_BYTES = 6_291_556;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null) ?? 'null', 'utf8');

/** An error thrown by a handler, named like Lambda names function errors (`errorType`). */
export class LambdaFunctionError extends Error {
  constructor(errorType: string, errorMessage: string, cause?: unknown) {
    super(JSON.stringify({ errorType, errorMessage }), { cause });
    this.name = errorType;
  }
}

export class LambdaRuntime {
  readonly #handlers = new Map<string, Promise<Handler>>();

  constructor(
    private readonly root: string,
    private readonly arnPrefix: string,
    private readonly timeoutMs = 300_000,
    /** When given, functions run from the packaged bundles instead of the TypeScript sources. */
    private readonly bundles?: LambdaBundles,
    private readonly fault?: InvokeFault,
  ) {}

  arnOf(name: FunctionName): string {
    return `${this.arnPrefix}${name}`;
  }

  /** The function a name or ARN refers to, or undefined. */
  resolveName(nameOrArn: string): FunctionName | undefined {
    const name = nameOrArn.startsWith(this.arnPrefix) ? nameOrArn.slice(this.arnPrefix.length) : nameOrArn;
    return name in CONTROL_PLANE_FUNCTIONS ? (name as FunctionName) : undefined;
  }

  /** Loads every handler now, so the first run does not pay for module loading. */
  async warm(): Promise<void> {
    await Promise.all(
      Object.keys(CONTROL_PLANE_FUNCTIONS).map((name) => this.#handler(name as FunctionName)),
    );
  }

  async invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const name = this.resolveName(nameOrArn);
    if (!name) throw new LambdaFunctionError('ResourceNotFoundException', `Function not found: ${nameOrArn}`);
    return this.fault ? this.fault(name, event, () => this.#invoke(name, event)) : this.#invoke(name, event);
  }

  async #invoke(name: FunctionName, event: unknown): Promise<unknown> {
    // Lambda carries the event as JSON and the runtime parses it for the function: the function
    // gets a copy as JSON makes it (no undefined members, dates as strings), never the caller's
    // object. One serialisation gives both that copy and the size Lambda checks.
    const payload = JSON.stringify(event ?? null) ?? 'null';
    const requestBytes = Buffer.byteLength(payload, 'utf8');
    if (requestBytes > MAX_SYNC_REQUEST_BYTES) {
      throw new LambdaFunctionError(
        'RequestEntityTooLargeException',
        `${requestBytes} byte payload is too large for the RequestResponse invocation type (limit ${MAX_SYNC_REQUEST_BYTES} bytes)`,
      );
    }
    const handler = await this.#handler(name);
    const deadline = Date.now() + this.timeoutMs;
    const context = {
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.arnOf(name),
      memoryLimitInMB: '256',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: false,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    let response: unknown;
    try {
      response = await handler(JSON.parse(payload), context);
    } catch (error: unknown) {
      if (error instanceof Error) throw new LambdaFunctionError(error.name, error.message, error);
      throw new LambdaFunctionError('Error', String(error));
    }
    if (jsonBytes(response) > MAX_SYNC_RESPONSE_BYTES) {
      throw new LambdaFunctionError(
        'Function.ResponseSizeTooLarge',
        `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_RESPONSE_BYTES} bytes).`,
      );
    }
    return response;
  }

  #handler(name: FunctionName): Promise<Handler> {
    let loaded = this.#handlers.get(name);
    if (!loaded) {
      const [file, exportName] = splitHandler(CONTROL_PLANE_FUNCTIONS[name]);
      const path = this.bundles ? this.bundles.moduleOf(name, file) : resolve(this.root, `${file}.ts`);
      loaded = import(pathToFileURL(path).href).then((module: Record<string, unknown>) => {
        const handler = module[exportName];
        if (typeof handler !== 'function') throw new Error(`${file}.ts does not export ${exportName}`);
        return handler as Handler;
      });
      this.#handlers.set(name, loaded);
    }
    return loaded;
  }
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}
