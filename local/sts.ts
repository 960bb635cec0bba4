/**
 * STS `GetCallerIdentity` for the local stack (query protocol, XML), so a run's caller proof is
 * checked on one machine the way Plan checks it in AWS. Locally the access key id is the
 * principal (shared/local-principals.ts); the request must be signed (an Authorization header
 * naming its key) and its signature not older than 15 minutes, as STS requires. The signature
 * itself is not recomputed: nothing is authenticated locally, the keys are in .drover/local.json.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCOUNT = '000000000000';
const MAX_AGE_MS = 15 * 60 * 1000;

/** True when `body` is a GetCallerIdentity call (the query protocol's form body). */
export function isGetCallerIdentity(req: IncomingMessage, body: string): boolean {
  return req.method === 'POST' && new URLSearchParams(body).get('Action') === 'GetCallerIdentity';
}

/** STS's answer: the caller's identity, or the error STS gives an unsigned or stale request. */
export function getCallerIdentity(req: IncomingMessage, now = Date.now()): { status: number; xml: string } {
  const key = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
  if (key === undefined)
    return error('MissingAuthenticationToken', 'Request is missing Authentication Token');
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    String(req.headers['x-amz-date'] ?? ''),
  );
  const signedAt = stamp
    ? Date.UTC(+stamp[1]!, +stamp[2]! - 1, +stamp[3]!, +stamp[4]!, +stamp[5]!, +stamp[6]!)
    : NaN;
  if (!(Math.abs(now - signedAt) <= MAX_AGE_MS)) return error('SignatureDoesNotMatch', 'Signature expired');
  const xml =
    `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
    `<Arn>arn:aws:iam::${ACCOUNT}:user/${escapeXml(key)}</Arn><UserId>${escapeXml(key)}</UserId>` +
    `<Account>${ACCOUNT}</Account></GetCallerIdentityResult>` +
    `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
  return { status: 200, xml };
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
