/**
 * Everything a request must pass before it runs: schema, addressee, signature, targets, expiry,
 * command policy, filter, capacity, replay. Pure except for the dedupe store, so every refusal
 * path is unit-testable. `cancel` requests pass the same authenticity checks (no filter or
 * policy: stopping a command is always allowed) and are deduplicated under their own key.
 */
import type { KeyObject } from 'node:crypto';
import {
  describeZodError,
  inboxMessageSchema,
  signedRequestSchema,
  type InboxMessage,
  type SignedRequest,
} from '#shared/messages.ts';
import { verifySignature } from '#shared/signing.ts';
import { provesTarget } from '#shared/target-tree.ts';
import { matchFilter, parseFilter, type HostFacts } from '#shared/filter/index.ts';
import { MAX_REQUEST_LIFETIME_SEC } from '#shared/request-expiry.ts';
import type { DedupeStore } from './dedupe-store.ts';
import type { CommandPolicy } from './policy.ts';

/**
 * - `accept`: run it.
 * - `cancel`: an authentic cancel; stop (or forestall) the execution of `key`. No reply.
 * - `reject`: an authentic request the agent refuses; the run gets a `rejected` reply. With a
 *   `key`, the refusal was claimed in the dedupe store (flush it before replying), so a
 *   redelivered copy is dropped as a replay instead of being run once the agent is free.
 * - `drop`: not authentic, not for us, or a replay: no reply, only the log and audit.
 */
export type GateDecision =
  | { kind: 'accept'; request: SignedRequest; key: string }
  | { kind: 'cancel'; request: SignedRequest; key: string }
  | { kind: 'reject'; request: SignedRequest; reason: string; key?: string }
  | { kind: 'drop'; reason: string; request?: SignedRequest };

export interface GateContext {
  nodeId: string;
  publicKey: KeyObject;
  /** The key the agent is pinned to (a KMS key ARN): documents naming another key are refused. */
  keyId?: string;
  /** While rotating: the next pinned key, used for documents that name it. */
  nextKeys?: readonly { keyId: string; publicKey: KeyObject }[];
  dedupe: DedupeStore;
  host: () => HostFacts;
  now: () => number;
  /** The host's command policy; everything is allowed without one. */
  policy?: CommandPolicy;
  /** Why the agent cannot take on another command right now, if it cannot. */
  busy?: () => string | undefined;
}

/** The dedupe key of a request: one execution per run and batch on a node. */
export const requestKey = (r: Pick<SignedRequest, 'runId' | 'batch'>): string => `${r.runId}#${r.batch}`;

/** The dedupe key of a cancel of that request: kept apart so the cancel cannot be mistaken for it. */
export const cancelKey = (r: Pick<SignedRequest, 'runId' | 'batch'>): string => `${requestKey(r)}#cancel`;

export function checkRequest(body: string, ctx: GateContext): GateDecision {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'drop', reason: 'malformed message: not JSON' };
  }
  const envelope = inboxMessageSchema.safeParse(json);
  if (!envelope.success)
    return { kind: 'drop', reason: `malformed message: ${describeZodError(envelope.error)}` };
  const message = envelope.data;
  if (message.nodeId !== ctx.nodeId)
    return { kind: 'drop', reason: `addressed to ${message.nodeId}, not to this node` };
  const named = namedKey(message.request);
  const next = ctx.nextKeys?.find((k) => k.keyId === named);
  const signed = authenticRequest(next?.publicKey ?? ctx.publicKey, message);
  const wrongKey = next === undefined ? otherKey(ctx, named) : undefined;
  if ('reason' in signed) return { kind: 'drop', reason: wrongKey ?? signed.reason };
  const request = signed.request;
  if (wrongKey !== undefined) return { kind: 'drop', reason: wrongKey, request };
  if (!isSignedTarget(request, message, ctx.nodeId)) {
    return { kind: 'drop', reason: 'this node is not among the signed targets', request };
  }
  const expired = ctx.now() > request.expiresAt;
  if (request.action === 'cancel') {
    // A cancel never gets a reply: replies count towards the run, and a cancel is not a host's answer.
    if (expired)
      return { kind: 'drop', reason: `expired cancel (at ${isoTime(request.expiresAt)})`, request };
    if (!ctx.dedupe.claim(cancelKey(request), 'done')) {
      return { kind: 'drop', reason: 'replay: cancel already received', request };
    }
    return { kind: 'cancel', request, key: requestKey(request) };
  }
  // An expired request is refused again each time it comes: nothing to remember.
  if (expired) return { kind: 'reject', request, reason: `expired at ${isoTime(request.expiresAt)}` };
  const lifetimeSec = (request.expiresAt - request.issuedAt) / 1000;
  if (lifetimeSec > MAX_REQUEST_LIFETIME_SEC) {
    // The dedupe store remembers requests only that long: a longer one could be replayed.
    return {
      kind: 'reject',
      request,
      reason: `valid for ${lifetimeSec} s, longer than the ${MAX_REQUEST_LIFETIME_SEC} s a request may live`,
    };
  }
  const key = requestKey(request);
  const seen = ctx.dedupe.stateOf(key);
  if (seen === 'cancelled') return { kind: 'drop', reason: 'cancelled before it arrived', request };
  if (seen !== undefined)
    return {
      kind: 'drop',
      reason: seen === 'refused' ? 'replay: request already refused' : 'replay: request already received',
      request,
    };
  const refusal = refusalOf(request, ctx);
  if (refusal !== undefined) {
    // Remembered like an accepted request: a copy redelivered once the agent is free (or the
    // policy or facts changed) must not run after the run was told this host refused.
    if (!ctx.dedupe.claim(key, 'refused'))
      return { kind: 'drop', reason: 'replay: request already received', request };
    return { kind: 'reject', request, reason: refusal, key };
  }
  if (!ctx.dedupe.claim(key)) return { kind: 'drop', reason: 'replay: request already received', request };
  return { kind: 'accept', request, key };
}

/** Why the agent refuses an authentic, unexpired, new request: policy, filter, capacity. */
function refusalOf(request: SignedRequest, ctx: GateContext): string | undefined {
  if (request.action === 'exec' && !request.command) return 'exec request without a command';
  const refusal =
    request.action === 'exec' && request.command ? ctx.policy?.refusal(request.command) : undefined;
  if (refusal !== undefined) return refusal;
  let matches: boolean;
  try {
    matches = matchFilter(parseFilter(request.filter), ctx.host());
  } catch (error: unknown) {
    return `filter does not parse: ${error instanceof Error ? error.message : error}`;
  }
  if (!matches) return 'facts no longer match the filter';
  return ctx.busy?.();
}

const isoTime = (ms: number): string => new Date(ms).toISOString();

/**
 * Whether the signed document names `nodeId` (this agent's own id, never the message's): in its
 * list, or by the message's proof that `nodeId` is a leaf of its signed target tree.
 */
function isSignedTarget(request: SignedRequest, message: InboxMessage, nodeId: string): boolean {
  if (request.targets !== undefined) return request.targets.includes(nodeId);
  const { targetTree } = request;
  const proof = message.targetProof;
  return targetTree !== undefined && proof !== undefined && provesTarget(targetTree, nodeId, proof);
}

/**
 * The last document whose key was read: the agents of one process get the same document, one
 * message each, and its key is read once, not parsed again for every message.
 */
let lastNamed: { document: string; keyId: string | undefined } | undefined;

/** The key a document names (read whether or not its signature verifies, only to choose a key). */
function namedKey(document: string): string | undefined {
  if (lastNamed?.document === document) return lastNamed.keyId;
  let keyId: string | undefined;
  try {
    const named = (JSON.parse(document) as { keyId?: unknown }).keyId;
    keyId = typeof named === 'string' ? named : undefined;
  } catch {
    keyId = undefined;
  }
  lastNamed = { document, keyId };
  return keyId;
}

/** Why a document naming `named` is not for this agent's pinned key(s), or undefined. */
function otherKey(ctx: GateContext, named: string | undefined): string | undefined {
  if (ctx.keyId === undefined || named === undefined || named === ctx.keyId) return undefined;
  const trusted = [ctx.keyId, ...(ctx.nextKeys ?? []).map((k) => k.keyId)].join(' and ');
  return `signed with key ${named}, but this agent trusts only ${trusted} (kms_key_id; a new key means configuring its ARN, see docs/security.md)`;
}

type Authenticity = { request: SignedRequest } | { reason: string };

/** Signed documents checked lately, by signature; the oldest go beyond CHECKED_KEPT. */
const checked = new Map<string, { publicKey: KeyObject; document: string; outcome: Authenticity }>();
const CHECKED_KEPT = 16;

/**
 * The signed request of `message` if its signature is good and it parses, or why not. The agents
 * of one process (a demo fleet, a load test) get the same signed document, one message each: it
 * is verified and parsed once, and the others get that outcome for the same document, signature
 * and key. The request is shared between them: nothing may change it.
 */
function authenticRequest(publicKey: KeyObject, message: InboxMessage): Authenticity {
  const { request: document, signature } = message;
  // Everything the outcome depends on: the key and document compared, the signature in the key.
  const key = `${signature.alg} ${signature.keyId} ${signature.value}`;
  const seen = checked.get(key);
  if (seen && seen.publicKey === publicKey && seen.document === document) return seen.outcome;
  const outcome = checkSigned(publicKey, message);
  checked.set(key, { publicKey, document, outcome });
  if (checked.size > CHECKED_KEPT) checked.delete(checked.keys().next().value!);
  return outcome;
}

function checkSigned(publicKey: KeyObject, message: InboxMessage): Authenticity {
  if (!verifySignature(publicKey, message.request, message.signature)) {
    return { reason: `bad signature (key ${message.signature.keyId})` };
  }
  let requestJson: unknown;
  try {
    requestJson = JSON.parse(message.request);
  } catch {
    return { reason: 'signed request is not JSON' };
  }
  const parsed = signedRequestSchema.safeParse(requestJson);
  if (!parsed.success) return { reason: `malformed request: ${describeZodError(parsed.error)}` };
  return { request: parsed.data };
}
