/** The request gate's handling of `cancel` requests, the command policy and a full queue. */
import { describe, expect, it } from 'vitest';
import { cancelKey, checkRequest, requestKey } from '#agent/receive/request-gate.ts';
import { CommandPolicy } from '#agent/receive/policy.ts';
import { MESSAGE_VERSION, type SignedRequest } from '#shared/messages.ts';
import { join } from 'node:path';
import { DedupeStore } from '#agent/receive/dedupe-store.ts';
import { signedRequest } from '../helpers/factories.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';
import { gateBench, NODE_ID, NOW } from '../helpers/gate-bench.ts';

const bench = gateBench(() => ({ identity: NODE_ID, facts: { role: 'web' }, classes: [] }), 'dispatch');
const { dispatch, impostor, gate } = bench;

function exec(overrides: Partial<SignedRequest> = {}): SignedRequest {
  return signedRequest({ issuedAt: NOW - 1_000, expiresAt: NOW + 60_000, targets: [NODE_ID], ...overrides });
}

function cancel(overrides: Partial<SignedRequest> = {}): SignedRequest {
  return exec({ action: 'cancel', command: undefined, ...overrides });
}

async function body(request: SignedRequest, signer = dispatch.signer): Promise<string> {
  const document = JSON.stringify(request);
  return JSON.stringify({
    v: MESSAGE_VERSION,
    nodeId: NODE_ID,
    request: document,
    signature: await signer.sign(document),
  });
}

describe('checkRequest with cancel', () => {
  it('accepts an authentic cancel for this node, keyed on the request it cancels', async () => {
    const sent = cancel();

    const decision = checkRequest(await body(sent), gate());

    expect(decision).toEqual({ kind: 'cancel', request: sent, key: requestKey(sent) });
    expect(bench.dedupe.stateOf(cancelKey(sent))).toBe('done');
    expect(bench.dedupe.has(requestKey(sent))).toBe(false);
  });

  it('does not re-check the filter or the policy for a cancel', async () => {
    const sent = cancel({ filter: { with: [], fact: ['role=db'], class: [], identity: [] } });
    const denyAll = new CommandPolicy({ default: 'deny', allow: [], deny: [], shell: false });

    expect(checkRequest(await body(sent), gate({ policy: denyAll })).kind).toBe('cancel');
  });

  it('drops a cancel delivered twice as a replay, without a reply', async () => {
    const sent = cancel();
    checkRequest(await body(sent), gate());

    expect(checkRequest(await body(sent), gate())).toEqual({
      kind: 'drop',
      reason: 'replay: cancel already received',
      request: sent,
    });
  });

  it('drops an expired cancel instead of rejecting it, so the run counts no reply for it', async () => {
    const sent = cancel({ expiresAt: NOW - 1 });

    const decision = checkRequest(await body(sent), gate());

    expect(decision).toMatchObject({ kind: 'drop', reason: expect.stringMatching(/^expired cancel/) });
    expect(bench.dedupe.size).toBe(0);
  });

  it('drops a cancel signed with another key or not addressed to this node', async () => {
    expect(checkRequest(await body(cancel(), impostor.signer), gate())).toMatchObject({
      kind: 'drop',
      reason: 'bad signature (key dispatch)',
    });
    expect(checkRequest(await body(cancel({ targets: ['web-2'] })), gate())).toMatchObject({
      kind: 'drop',
      reason: 'this node is not among the signed targets',
    });
    expect(bench.dedupe.size).toBe(0);
  });

  it('keeps the cancel of one request apart from the request itself', async () => {
    const run = exec();
    expect(checkRequest(await body(run), gate()).kind).toBe('accept');

    expect(checkRequest(await body(cancel({ runId: run.runId })), gate()).kind).toBe('cancel');
  });

  it('drops a request that was cancelled before it arrived, saying so', async () => {
    const sent = exec();
    bench.dedupe.claim(requestKey(sent), 'cancelled');

    expect(checkRequest(await body(sent), gate())).toEqual({
      kind: 'drop',
      reason: 'cancelled before it arrived',
      request: sent,
    });
  });
});

describe('checkRequest with a command policy', () => {
  const locked = new CommandPolicy({ default: 'deny', allow: ['uptime'], deny: [], shell: true });

  it('rejects a command the policy refuses, with the reason, and remembers it as refused', async () => {
    const sent = exec({ command: { shell: 'cat /etc/shadow' } });

    const decision = checkRequest(await body(sent), gate({ policy: locked }));

    expect(decision).toEqual({
      kind: 'reject',
      request: sent,
      reason: 'policy: command matches no allow pattern (policy.default is deny)',
      key: requestKey(sent),
    });
    expect(bench.dedupe.stateOf(requestKey(sent))).toBe('refused');
  });

  it('accepts a command the policy allows', async () => {
    expect(
      checkRequest(await body(exec({ command: { shell: 'uptime' } })), gate({ policy: locked })).kind,
    ).toBe('accept');
  });

  it('lets a ping through a policy that refuses every command', async () => {
    const sent = exec({ action: 'ping', command: undefined });

    expect(checkRequest(await body(sent), gate({ policy: locked })).kind).toBe('accept');
  });

  it('checks the signature before the policy: a forged request is dropped, not rejected', async () => {
    const forged = await body(exec({ command: { shell: 'cat /etc/shadow' } }), impostor.signer);

    expect(checkRequest(forged, gate({ policy: locked })).kind).toBe('drop');
  });
});

describe('checkRequest when the agent is busy', () => {
  it('rejects a new request with the reason and remembers it, so a copy redelivered once free is not run', async () => {
    const sent = exec();

    const decision = checkRequest(await body(sent), gate({ busy: () => 'agent busy: 4 commands running' }));
    const redelivered = checkRequest(await body(sent), gate());

    expect(decision).toEqual({
      kind: 'reject',
      request: sent,
      reason: 'agent busy: 4 commands running',
      key: requestKey(sent),
    });
    expect(redelivered).toMatchObject({ kind: 'drop', reason: 'replay: request already refused' });
  });

  it('still drops a replay rather than calling it busy', async () => {
    const sent = exec();
    checkRequest(await body(sent), gate());

    expect(checkRequest(await body(sent), gate({ busy: () => 'agent busy' }))).toMatchObject({
      kind: 'drop',
      reason: 'replay: request already received',
    });
  });
});

describe('checkRequest for the agents of one process, which share checked documents', () => {
  /** The second agent's own state directory. */
  const other = tempDirPerTest('drover-gate-other-');
  /** The message `body` would send, with its document or signature replaced. */
  function tampered(sent: string, change: { document?: string; nodeId?: string }): string {
    const message = JSON.parse(sent) as { nodeId: string; request: string };
    return JSON.stringify({
      ...message,
      nodeId: change.nodeId ?? message.nodeId,
      request: change.document ?? message.request,
    });
  }

  it('accepts one signed document for each of its targets', async () => {
    const sent = exec({ targets: [NODE_ID, 'web-2'] });
    const message = await body(sent);

    const web2 = DedupeStore.open(join(other.path(), 'dedupe.jsonl'));

    expect(checkRequest(message, gate()).kind).toBe('accept');
    expect(
      checkRequest(tampered(message, { nodeId: 'web-2' }), gate({ nodeId: 'web-2', dedupe: web2 })),
    ).toMatchObject({ kind: 'accept', request: sent });
    web2.close();
  });

  it('still drops a document it accepted when the agent checks with another key', async () => {
    const message = await body(exec());
    expect(checkRequest(message, gate()).kind).toBe('accept');

    expect(checkRequest(message, gate({ publicKey: impostor.publicKey }))).toMatchObject({
      kind: 'drop',
      reason: 'bad signature (key dispatch)',
    });
  });

  it('drops a document changed under a signature it already accepted', async () => {
    const sent = exec();
    const message = await body(sent);
    expect(checkRequest(message, gate()).kind).toBe('accept');

    const forged = JSON.stringify({ ...sent, command: { shell: 'cat /etc/shadow' } });

    expect(checkRequest(tampered(message, { document: forged }), gate())).toMatchObject({
      kind: 'drop',
      reason: 'bad signature (key dispatch)',
    });
  });
});
