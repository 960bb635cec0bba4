/**
 * STS `GetCallerIdentity` for the local stack (query protocol, XML), so a run's caller proof is
 * checked on one machine the way Plan checks it in AWS. Locally the access key id is the
 * principal (shared/local-principals.ts). As STS does, it refuses an unsigned request, a signature
 * older than 15 minutes, and one that does not verify (SigV4, recomputed with the local stack's
 * secret, which every local principal shares: it is in .drover/local.json).
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCOUNT = '000000000000';
const MAX_AGE_MS = 15 * 60 * 1000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/;

/** True when `body` is a GetCallerIdentity call (the query protocol's form body). */
export function isGetCallerIdentity(req: IncomingMessage, body: string): boolean {
  return req.method === 'POST' && new URLSearchParams(body).get('Action') === 'GetCallerIdentity';
}

/**
 * STS's answer: the caller's identity, or the error STS gives an unsigned, stale or badly signed
 * request.
 */
export function getCallerIdentity(
  req: IncomingMessage,
  body: string,
  secret: string,
  now = Date.now(),
): { status: number; xml: string } {
  const auth = AUTHORIZATION.exec(String(req.headers.authorization ?? ''));
  if (!auth) return error('MissingAuthenticationToken', 'Request is missing Authentication Token');
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    String(req.headers['x-amz-date'] ?? ''),
  );
  const signedAt = stamp
    ? Date.UTC(+stamp[1]!, +stamp[2]! - 1, +stamp[3]!, +stamp[4]!, +stamp[5]!, +stamp[6]!)
    : NaN;
  if (!(Math.abs(now - signedAt) <= MAX_AGE_MS)) return error('SignatureDoesNotMatch', 'Signature expired');
  if (signatureOf(req, body, secret, auth) !== auth[6]) {
    return error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided',
    );
  }
  const key = escapeXml(auth[1]!);
  const xml =
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
    `<Arn>arn:aws:iam::${ACCOUNT}:user/${key}</Arn><UserId>${key}</UserId>` +
    `<Account>${ACCOUNT}</Account></GetCallerIdentityResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
  return { status: 200, xml };
}

/** The SigV4 signature of the request (header form, as the SDK signs it) with `secret`. */
function signatureOf(req: IncomingMessage, body: string, secret: string, auth: RegExpExecArray): string {
  const [, , day, region, service, signedHeaders] = auth as unknown as string[];
  const canonicalHeaders = signedHeaders!
    .split(';')
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const [path, query = ''] = (req.url ?? '/').split('?');
  const sha256 = (data: string) => createHash('sha256').update(data).digest('hex');
  const canonical = [req.method, path, query, canonicalHeaders, signedHeaders, sha256(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', String(req.headers['x-amz-date']), scope, sha256(canonical)].join('\n');
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!), 'aws4_request');
  return createHmac('sha256', signingKey).update(toSign).digest('hex');
}

function error(code: string, message: string): { status: number; xml: string } {
  return {
    status: 403,
    xml: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`,
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
