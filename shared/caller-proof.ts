/**
 * Who started a run, proven rather than claimed. The CLI signs (but does not send) an STS
 * `GetCallerIdentity` request with its own credentials, with the run id in a signed header, and
 * puts it in the run request; Plan sends that request to STS and records the ARN STS answers. The
 * proof is tied to the run (Plan checks the header) and expires with its signature (15 minutes);
 * it is never stored or logged. Plan only ever sends it to an STS endpoint (checked below), so it
 * cannot be used to make Plan call anything else. `caller` (user@host) stays what the client says.
 */
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import type { CallerProof } from './messages.ts';

export const RUN_ID_HEADER = 'x-drover-run-id';

export interface CallerIdentity {
  arn: string;
  userId: string;
  account: string;
}

export class CallerProofError extends Error {
  override name = 'CallerProofError';
}

class Captured extends Error {
  constructor(readonly proof: CallerProof) {
    super('captured');
  }
}

/** Signs a GetCallerIdentity request for `runId` with `credentials`, without sending it. */
export async function signCallerProof(options: {
  runId: string;
  region: string;
  credentials?: STSClientConfig['credentials'];
  endpoint?: string;
}): Promise<CallerProof> {
  const sts = new STSClient({
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  sts.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string> };
      request.headers[RUN_ID_HEADER] = options.runId;
      return next(args);
    },
    { step: 'build', name: 'droverRunIdHeader' },
  );
  sts.middlewareStack.addRelativeTo(
    () => async (args: { request: unknown }) => {
      const r = args.request as {
        protocol: string;
        hostname: string;
        port?: number;
        path: string;
        headers: Record<string, string>;
        body: string;
      };
      const url = `${r.protocol}//${r.hostname}${r.port ? `:${r.port}` : ''}${r.path}`;
      throw new Captured({ url, headers: { ...r.headers }, body: String(r.body) });
    },
    { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'droverCaptureSigned' },
  );
  try {
    await sts.send(new GetCallerIdentityCommand({}));
  } catch (error: unknown) {
    if (error instanceof Captured) return error.proof;
    throw error;
  } finally {
    sts.destroy();
  }
  throw new CallerProofError('the signed request was not captured');
}

/** STS endpoints a proof may be sent to: AWS's own, or the one this process is configured with. */
function stsEndpointAllowed(url: URL, configured: string | undefined): boolean {
  if (configured !== undefined && configured !== '' && url.origin === new URL(configured).origin) return true;
  return url.protocol === 'https:' && /^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$/.test(url.hostname);
}

/**
 * Sends the proof to STS and returns who signed it. Throws {@link CallerProofError} when the
 * proof is not a GetCallerIdentity request for `runId` to an STS endpoint, or STS refuses it.
 */
export async function verifyCallerProof(
  proof: CallerProof,
  options: { runId: string; stsEndpoint?: string; fetch?: typeof fetch },
): Promise<CallerIdentity> {
  const url = new URL(proof.url);
  if (!stsEndpointAllowed(url, options.stsEndpoint)) {
    throw new CallerProofError(`caller proof is not addressed to STS (${url.origin})`);
  }
  if (
    url.pathname !== '/' ||
    url.search !== '' ||
    !/^Action=GetCallerIdentity&Version=[\d-]+$/.test(proof.body)
  ) {
    throw new CallerProofError('caller proof is not a GetCallerIdentity request');
  }
  const signed = /SignedHeaders=([^,\s]+)/.exec(proof.headers.authorization ?? '')?.[1]?.split(';') ?? [];
  if (proof.headers[RUN_ID_HEADER] !== options.runId || !signed.includes(RUN_ID_HEADER)) {
    throw new CallerProofError('caller proof was not signed for this run');
  }
  const headers = Object.fromEntries(
    Object.entries(proof.headers).filter(
      ([name]) => !['host', 'content-length'].includes(name.toLowerCase()),
    ),
  );
  const response = await (options.fetch ?? fetch)(url, {
    method: 'POST',
    headers,
    body: proof.body,
    redirect: 'error',
    signal: AbortSignal.timeout(5_000),
  });
  const text = await response.text();
  if (!response.ok) {
    const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? `HTTP ${response.status}`;
    throw new CallerProofError(`STS refused the caller proof: ${code}`);
  }
  const field = (name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(text)?.[1];
  const arn = field('Arn');
  if (arn === undefined) throw new CallerProofError('STS answered without an ARN');
  return { arn, userId: field('UserId') ?? '', account: field('Account') ?? '' };
}
