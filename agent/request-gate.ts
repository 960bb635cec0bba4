/**
 * Everything a request must pass before it runs: schema, addressee, signature, expiry, replay,
 * filter. Pure except for the dedupe store, so every refusal path is unit-testable.
 */
import type { KeyObject } from 'node:crypto';
import {
  describeZodError,
  inboxMessageSchema,
  signedRequestSchema,
  type SignedRequest,
} from '#shared/messages.ts';
import { verifySignature } from '#shared/signing.ts';
import { matchFilter, parseFilter, type HostFacts } from '#shared/filter/index.ts';
import type { DedupeStore } from './dedupe-store.ts';

/**
 * - `accept`: run it.
 * - `reject`: an authentic request the agent refuses; the run gets a `rejected` reply.
 * - `drop`: not authentic, not for us, or a replay: no reply, only the log and audit.
 */
export type GateDecision =
  | { kind: 'accept'; request: SignedRequest; key: string }
  | { kind: 'reject'; request: SignedRequest; reason: string }
  | { kind: 'drop'; reason: string; request?: SignedRequest };

export interface GateContext {
  nodeId: string;
  publicKey: KeyObject;
  dedupe: DedupeStore;
  host: () => HostFacts;
  now: () => number;
}

/** The dedupe key of a request: one execution per run and batch on a node. */
export const requestKey = (r: Pick<SignedRequest, 'runId' | 'batch'>): string => `${r.runId}#${r.batch}`;

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
  if (!verifySignature(ctx.publicKey, message.request, message.signature)) {
    return { kind: 'drop', reason: `bad signature (key ${message.signature.keyId})` };
  }
  let requestJson: unknown;
  try {
    requestJson = JSON.parse(message.request);
  } catch {
    return { kind: 'drop', reason: 'signed request is not JSON' };
  }
  const parsed = signedRequestSchema.safeParse(requestJson);
  if (!parsed.success)
    return { kind: 'drop', reason: `malformed request: ${describeZodError(parsed.error)}` };
  const request = parsed.data;
  if (!request.targets.includes(ctx.nodeId)) {
    return { kind: 'drop', reason: 'this node is not among the signed targets', request };
  }
  if (ctx.now() > request.expiresAt) {
    return { kind: 'reject', request, reason: `expired at ${new Date(request.expiresAt).toISOString()}` };
  }
  if (request.action === 'exec' && !request.command) {
    return { kind: 'reject', request, reason: 'exec request without a command' };
  }
  let matches: boolean;
  try {
    matches = matchFilter(parseFilter(request.filter), ctx.host());
  } catch (error: unknown) {
    return {
      kind: 'reject',
      request,
      reason: `filter does not parse: ${error instanceof Error ? error.message : error}`,
    };
  }
  if (!matches) return { kind: 'reject', request, reason: 'facts no longer match the filter' };
  const key = requestKey(request);
  // Last, so refused requests are not remembered as executed.
  if (!ctx.dedupe.claim(key)) return { kind: 'drop', reason: 'replay: request already received', request };
  return { kind: 'accept', request, key };
}
