/**
 * What drover takes out of, or reuses in, the AWS SDK's per-call pipeline: work the SDK does on
 * every call whose result cannot change for a client built by `shared/aws.ts`. Nothing here
 * changes a request on the wire: the same headers, the same signature (SigV4 over the same
 * canonical request, with the same credentials, region and service), the same retries.
 *
 * Measured against an answer given at once (no network), a DynamoDB `UpdateItem` costs ~140 µs of
 * client CPU; the stack makes ~3 such calls per host and run, and every agent ~3 more.
 */
// A namespace import: in Lambda the SDK is the runtime's own (serverless.yml leaves @aws-sdk/*
// out of the bundles), whose @aws-sdk/core may not export these; then the SDK is left as it is.
import * as sdkClientCore from '@aws-sdk/core/client';
import { HttpRequest } from '@smithy/core/protocols';
import type { BuildHandler, BuildHandlerArguments, HandlerExecutionContext } from '@smithy/types';

/** The SigV4 signer the SDK builds for an auth scheme (a `SignatureV4`). */
type SignerFactory = (authScheme?: AuthSchemeLike) => Promise<unknown>;

interface AuthSchemeLike {
  name?: string;
  signingName?: string;
  signingRegion?: string;
  properties?: unknown;
}

/**
 * The SDK's default `config.signer` builds a new `SignatureV4` on every call (a copy of the whole
 * client config, the credential and region providers normalised again): ~10 µs and a few hundred
 * bytes of garbage per call. What it builds depends only on the auth scheme the endpoint names
 * (none for drover's endpoints) and on the client's config, which does not change after
 * construction, so one signer per auth scheme serves every call. The signer keeps no state
 * between calls: credentials and region are read through providers at each `sign`, so rotating
 * credentials (Lambda's, an instance profile's) are still picked up.
 */
export function reuseSigners(config: object): void {
  const resolved = config as { signer?: SignerFactory };
  const build = resolved.signer;
  if (typeof build !== 'function') return;
  const built = new Map<string, Promise<unknown>>();
  resolved.signer = (authScheme) => {
    const key = JSON.stringify([
      authScheme?.name,
      authScheme?.signingName,
      authScheme?.signingRegion,
      authScheme?.properties,
    ]);
    let signer = built.get(key);
    if (!signer) {
      signer = build(authScheme).then(withSigningKeysKept);
      // A failed build (no region, say) is not kept: the next call tries again, as without reuse.
      signer.catch(() => built.delete(key));
      built.set(key, signer);
    }
    return signer;
  };
}

interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}
type DeriveKey = (
  credentials: SigningCredentials,
  region: string,
  shortDate: string,
  service?: string,
) => Promise<Uint8Array>;

/**
 * SigV4 derives a signing key per day, region, service and secret (four HMACs). `SignatureV4`
 * caches the key, but finds it by a key of its own that costs an HMAC of the secret on every
 * call, as much as hashing the payload. The signer reused above keeps the keys it derived by
 * those same inputs, the secret itself included (so new credentials derive a new key), and asks
 * `SignatureV4` for the rest.
 */
function withSigningKeysKept(signer: unknown): unknown {
  const s = signer as { getSigningKey?: DeriveKey };
  if (typeof s.getSigningKey !== 'function') return signer;
  const derive = s.getSigningKey.bind(signer);
  const keys = new Map<string, Promise<Uint8Array>>();
  s.getSigningKey = (credentials, region, shortDate, service) => {
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    const id = [shortDate, region, service, accessKeyId, secretAccessKey, sessionToken].join('\n');
    let key = keys.get(id);
    if (!key) {
      if (keys.size >= 50) keys.clear(); // a day's keys for a few credentials; the SDK keeps 50
      key = derive(credentials, region, shortDate, service);
      key.catch(() => keys.delete(id));
      keys.set(id, key);
    }
    return key;
  };
  return signer;
}

/**
 * The recursion-detection middleware passes Lambda's X-Ray trace id (and W3C trace context) on to
 * the services a function calls. It does something only inside Lambda (`AWS_LAMBDA_FUNCTION_NAME`
 * set, which the runtime does before loading the function), yet reads the environment on every
 * call wherever it runs. Outside Lambda (the agents, the CLI, the local stack's handlers) it is
 * taken out; inside Lambda it stays.
 */
export function withoutTraceForwardingOutsideLambda(client: {
  middlewareStack: { remove(name: string): boolean };
}): void {
  if (process.env.AWS_LAMBDA_FUNCTION_NAME) return;
  client.middlewareStack.remove('recursionDetectionMiddleware');
}

/** What the user-agent middleware writes into a request and its context. */
interface UserAgentWrite {
  headers: Record<string, string>;
  features: Record<string, string>;
}

type UserAgentContext = HandlerExecutionContext & {
  userAgent?: unknown;
  endpointV2?: { url?: { hostname?: string } };
  __smithy_context?: {
    features?: object;
    selectedHttpAuthScheme?: { identity?: { $source?: object; accountId?: string } };
  };
  __aws_sdk_context?: { features?: Record<string, string> };
};

const UA_HEADERS = ['user-agent', 'x-amz-user-agent'] as const;

/**
 * What the user-agent middleware's output depends on that can change from call to call; the rest
 * (the SDK and client versions, OS, retry mode, app id) is fixed when the client is built.
 */
function userAgentInputs(context: UserAgentContext, request: HttpRequest): string {
  const identity = context.__smithy_context?.selectedHttpAuthScheme?.identity;
  return JSON.stringify([
    context.userAgent,
    context.__smithy_context?.features,
    context.__aws_sdk_context?.features,
    request.headers['smithy-protocol'],
    request.headers['x-amz-user-agent'],
    request.headers['user-agent'],
    context.endpointV2?.url?.hostname,
    identity?.$source,
    identity?.accountId !== undefined,
    sdkClientCore.getUserAgentPrefix?.(),
  ]);
}

/**
 * The SDK's user-agent middleware rebuilds the same two headers on every call: it escapes each of
 * the ~7 sections of the default user agent with regular expressions and re-derives the features
 * (retry mode, credentials' source) from the config: ~20 µs a call. Wrapped here so that it runs
 * once per distinct input (`userAgentInputs`) and its result (headers, and the features it records
 * in the context) is reused: requests carry exactly the headers the SDK would write.
 * `config` is the config the client was built with (the one its own middleware holds).
 */
export function reuseUserAgent(
  client: { middlewareStack: { add(middleware: never, options: object): void; identify(): string[] } },
  config: object,
): void {
  const { userAgentMiddleware, getUserAgentMiddlewareOptions } = sdkClientCore;
  const hasStock = client.middlewareStack.identify().some((n) => n.startsWith('getUserAgentMiddleware'));
  if (typeof userAgentMiddleware !== 'function' || !getUserAgentMiddlewareOptions || !hasStock) return;
  const stock = userAgentMiddleware(config as Parameters<typeof userAgentMiddleware>[0]);
  const written = new Map<string, UserAgentWrite>();
  const middleware =
    (next: BuildHandler<object, object>, context: UserAgentContext) =>
    async (args: BuildHandlerArguments<object>) => {
      const request = args.request;
      if (!HttpRequest.isInstance(request)) return stock(next, context)(args);
      const key = userAgentInputs(context, request);
      const known = written.get(key);
      if (!known) {
        const record = async (passed: BuildHandlerArguments<object>) => {
          if (written.size >= 100) written.clear();
          const headers = (passed.request as HttpRequest).headers;
          written.set(key, {
            headers: Object.fromEntries(UA_HEADERS.flatMap((h) => (h in headers ? [[h, headers[h]!]] : []))),
            features: { ...context.__aws_sdk_context?.features },
          });
          return next(passed);
        };
        return stock(record, context)(args);
      }
      Object.assign(request.headers, known.headers);
      if (Object.keys(known.features).length > 0) {
        const sdkContext = (context.__aws_sdk_context ??= {});
        sdkContext.features = Object.assign(sdkContext.features ?? {}, known.features);
      }
      return next(args);
    };
  client.middlewareStack.add(middleware as never, { ...getUserAgentMiddlewareOptions, override: true });
}
