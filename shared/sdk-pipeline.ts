/**
 * What drover takes out of, or reuses in, the AWS SDK's per-call pipeline: work the SDK does on
 * every call whose result cannot change for a client built by `shared/aws.ts`. Nothing here
 * changes a request on the wire: the same headers, the same signature (SigV4 over the same
 * canonical request, with the same credentials, region and service), the same retries.
 *
 * Measured against an answer given at once (no network), a DynamoDB `UpdateItem` costs ~140 µs of
 * client CPU; the stack makes ~3 such calls per host and run, and every agent ~3 more.
 */

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
      signer = build(authScheme);
      // A failed build (no region, say) is not kept: the next call tries again, as without reuse.
      signer.catch(() => built.delete(key));
      built.set(key, signer);
    }
    return signer;
  };
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
