/**
 * The request gate: schema, addressee, signature, targets, expiry, filter, replay; `cancel`
 * requests, the command policy, a full queue, and agents of one process sharing checked documents.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { cancelKey, checkRequest, requestKey } from '#agent/receive/request-gate.ts';
import { CommandPolicy } from '#agent/receive/policy.ts';
import { DedupeStore } from '#agent/receive/dedupe-store.ts';
import { LocalKeySigner } from '#shared/signing.ts';
import { MAX_REQUEST_LIFETIME_SEC } from '#shared/request-expiry.ts';
import { MESSAGE_VERSION, type InboxMessage, type SignedRequest } from '#shared/messages.ts';
import type { HostFacts } from '#shared/filter/index.ts';
import { signedRequest } from '../helpers/factories.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';
import { gateBench, NODE_ID, NOW } from '../helpers/gate-bench.ts';

let hostFacts: HostFacts;
const bench = gateBench(() => hostFacts);
const { dispatch: dispatchKey, impostor: impostorKey, gate } = bench;

beforeEach(() => {
  hostFacts = { identity: NODE_ID, facts: { role: 'web' }, classes: ['nginx'] };
});

/** A request of the batch, valid at NOW and addressed to this node. */
function request(overrides: Partial<SignedRequest> = {}): SignedRequest {
  return signedRequest({ issuedAt: NOW - 1_000, expiresAt: NOW + 60_000, targets: [NODE_ID], ...overrides });
}

function cancel(overrides: Partial<SignedRequest> = {}): SignedRequest {
  return request({ action: 'cancel', command: undefined, ...overrides });
}

/** The inbox message body dispatch sends: the signed document verbatim plus its signature. */
async function inboxBody(
  document: SignedRequest | string,
  options: { signer?: LocalKeySigner; nodeId?: string; tamper?: (signed: string) => string } = {},
): Promise<string> {
  const signed = typeof document === 'string' ? document : JSON.stringify(document);
  const signature = await (options.signer ?? dispatchKey.signer).sign(signed);
  const message: InboxMessage = {
    v: MESSAGE_VERSION,
    nodeId: options.nodeId ?? NODE_ID,
    request: options.tamper ? options.tamper(signed) : signed,
    signature,
  };
  return JSON.stringify(message);
}

describe('checkRequest', () => {
  it('accepts a valid request and remembers it as taken on', async () => {
    // Prepare
    const sent = request();
    const body = await inboxBody(sent);

    // Act
    const decision = checkRequest(body, gate());

    // Assess
    expect(decision).toEqual({ kind: 'accept', request: sent, key: `${sent.runId}#0` });
    expect(bench.dedupe.has(requestKey(sent))).toBe(true);
  });

  it('accepts a request whose filter the host matches', async () => {
    const body = await inboxBody(
      request({ filter: { with: [], fact: ['role=web'], class: ['nginx'], identity: [] } }),
    );

    expect(checkRequest(body, gate()).kind).toBe('accept');
  });

  it('accepts a request addressed to many targets, this node among them', async () => {
    const body = await inboxBody(request({ targets: ['db-1', NODE_ID, 'web-2'] }));

    expect(checkRequest(body, gate()).kind).toBe('accept');
  });

  it('drops a message that is not JSON', () => {
    expect(checkRequest('{"v":1,', gate())).toEqual({ kind: 'drop', reason: 'malformed message: not JSON' });
  });

  it('drops a message that does not match the inbox schema', async () => {
    const { signature: _omitted, ...unsigned } = JSON.parse(await inboxBody(request())) as InboxMessage;

    const decision = checkRequest(JSON.stringify(unsigned), gate());

    expect(decision).toEqual({
      kind: 'drop',
      reason: expect.stringMatching(/^malformed message: signature: /),
    });
  });

  it('drops a message addressed to another node', async () => {
    const body = await inboxBody(request({ targets: ['web-2', NODE_ID] }), { nodeId: 'web-2' });

    expect(checkRequest(body, gate())).toEqual({
      kind: 'drop',
      reason: 'addressed to web-2, not to this node',
    });
  });

  it('drops a request signed with another key', async () => {
    const body = await inboxBody(request(), { signer: impostorKey.signer });

    const decision = checkRequest(body, gate());

    expect(decision).toEqual({ kind: 'drop', reason: 'bad signature (key file:test-key.pem)' });
    expect(bench.dedupe.size).toBe(0);
  });

  it('drops a request changed after it was signed', async () => {
    const body = await inboxBody(request({ command: { shell: 'true' } }), {
      tamper: (signed) => signed.replace('"shell":"true"', '"shell":"rm -rf /"'),
    });
    expect(body).toContain('rm -rf /');

    const decision = checkRequest(body, gate());

    expect(decision).toMatchObject({ kind: 'drop', reason: expect.stringMatching(/^bad signature/) });
  });

  it('drops a request whose target list was widened after signing', async () => {
    const body = await inboxBody(request({ targets: ['web-2'] }), {
      tamper: (signed) => signed.replace('"targets":["web-2"]', `"targets":["web-2","${NODE_ID}"]`),
    });

    expect(checkRequest(body, gate())).toMatchObject({
      kind: 'drop',
      reason: expect.stringMatching(/^bad signature/),
    });
  });

  it('drops an authentic request that does not list this node among its targets', async () => {
    const sent = request({ targets: ['web-2', 'web-3'] });

    const decision = checkRequest(await inboxBody(sent), gate());

    expect(decision).toEqual({
      kind: 'drop',
      reason: 'this node is not among the signed targets',
      request: sent,
    });
    expect(bench.dedupe.has(requestKey(sent))).toBe(false);
  });

  it('drops an authentic document that is not JSON', async () => {
    const body = await inboxBody('not json at all');

    expect(checkRequest(body, gate())).toEqual({ kind: 'drop', reason: 'signed request is not JSON' });
  });

  it('drops an authentic document that is not a valid request', async () => {
    const { targets: _omitted, ...withoutTargets } = request();
    const body = await inboxBody(JSON.stringify(withoutTargets));

    expect(checkRequest(body, gate())).toEqual({
      kind: 'drop',
      reason: expect.stringMatching(/^malformed request: targets: /),
    });
  });

  it('rejects an expired request without remembering it as executed', async () => {
    // Prepare
    const sent = request({ expiresAt: NOW - 1 });

    // Act
    const decision = checkRequest(await inboxBody(sent), gate());

    // Assess
    expect(decision).toEqual({
      kind: 'reject',
      request: sent,
      reason: `expired at ${new Date(NOW - 1).toISOString()}`,
    });
    expect(bench.dedupe.has(requestKey(sent))).toBe(false);
  });

  it('accepts a request at the very moment it expires', async () => {
    const body = await inboxBody(request({ expiresAt: NOW }));

    expect(checkRequest(body, gate()).kind).toBe('accept');
  });

  it('rejects a request whose filter the host no longer matches, and remembers it as refused', async () => {
    // Prepare
    const sent = request({ filter: { with: [], fact: ['role=db'], class: [], identity: [] } });

    // Act
    const decision = checkRequest(await inboxBody(sent), gate());

    // Assess
    expect(decision).toEqual({
      kind: 'reject',
      request: sent,
      reason: 'facts no longer match the filter',
      key: requestKey(sent),
    });
    expect(bench.dedupe.stateOf(requestKey(sent))).toBe('refused');
  });

  it('drops a redelivered copy of a refused request even once the host matches its filter again', async () => {
    // Prepare: the host is a db while the first copy arrives, a web server for the second.
    const body = await inboxBody(
      request({ filter: { with: [], fact: ['role=web'], class: [], identity: [] } }),
    );
    hostFacts = { ...hostFacts, facts: { role: 'db' } };
    const first = checkRequest(body, gate());
    hostFacts = { ...hostFacts, facts: { role: 'web' } };

    // Act
    const second = checkRequest(body, gate());

    // Assess: the run was told this host refused; it must not run the command later.
    expect(first.kind).toBe('reject');
    expect(second).toMatchObject({ kind: 'drop', reason: 'replay: request already refused' });
  });

  it('refuses a request that would outlive what the dedupe store remembers', async () => {
    const sent = request({ issuedAt: NOW - 1_000, expiresAt: NOW + 2 * MAX_REQUEST_LIFETIME_SEC * 1000 });

    const decision = checkRequest(await inboxBody(sent), gate());

    expect(decision).toMatchObject({
      kind: 'reject',
      reason: expect.stringMatching(/longer than the 3601 s/),
    });
    expect(bench.dedupe.has(requestKey(sent))).toBe(false);
  });

  it('rejects an exec request without a command', async () => {
    const sent = request({ command: undefined });

    expect(checkRequest(await inboxBody(sent), gate())).toMatchObject({
      kind: 'reject',
      reason: 'exec request without a command',
    });
  });

  it('rejects a signed filter that does not parse, naming the problem', async () => {
    const sent = request({
      filter: { with: [], fact: [], class: [], identity: [], select: 'role=web and (' },
    });

    const decision = checkRequest(await inboxBody(sent), gate());

    expect(decision).toMatchObject({
      kind: 'reject',
      reason: expect.stringMatching(/^filter does not parse: -S: /),
    });
    expect(bench.dedupe.stateOf(requestKey(sent))).toBe('refused');
  });

  it('drops the second copy of the same request as a replay', async () => {
    // Prepare
    const sent = request();
    const body = await inboxBody(sent);
    checkRequest(body, gate());

    // Act
    const replay = checkRequest(body, gate());

    // Assess
    expect(replay).toEqual({ kind: 'drop', reason: 'replay: request already received', request: sent });
  });

  it('drops a replay even after the agent restarted', async () => {
    // Prepare
    const body = await inboxBody(request());
    checkRequest(body, gate());
    bench.reopen();

    // Act
    const replay = checkRequest(body, gate());

    // Assess
    expect(replay).toMatchObject({ kind: 'drop', reason: 'replay: request already received' });
  });

  it('accepts the next batch of the same run', async () => {
    checkRequest(await inboxBody(request({ batch: 0 })), gate());

    const next = checkRequest(await inboxBody(request({ batch: 1 })), gate());

    expect(next).toMatchObject({ kind: 'accept', key: '01TESTRUN00000000000000000#1' });
  });
});

describe('checkRequest with cancel', () => {
  it('accepts an authentic cancel for this node, keyed on the request it cancels', async () => {
    const sent = cancel();

    const decision = checkRequest(await inboxBody(sent), gate());

    expect(decision).toEqual({ kind: 'cancel', request: sent, key: requestKey(sent) });
    expect(bench.dedupe.stateOf(cancelKey(sent))).toBe('done');
    expect(bench.dedupe.has(requestKey(sent))).toBe(false);
  });

  it('does not re-check the filter or the policy for a cancel', async () => {
    const sent = cancel({ filter: { with: [], fact: ['role=db'], class: [], identity: [] } });
    const denyAll = new CommandPolicy({ default: 'deny', allow: [], deny: [], shell: false });

    expect(checkRequest(await inboxBody(sent), gate({ policy: denyAll })).kind).toBe('cancel');
  });

  it('drops a cancel delivered twice as a replay, without a reply', async () => {
    const sent = cancel();
    checkRequest(await inboxBody(sent), gate());

    expect(checkRequest(await inboxBody(sent), gate())).toEqual({
      kind: 'drop',
      reason: 'replay: cancel already received',
      request: sent,
    });
  });

  it('drops an expired cancel instead of rejecting it, so the run counts no reply for it', async () => {
    const sent = cancel({ expiresAt: NOW - 1 });

    const decision = checkRequest(await inboxBody(sent), gate());

    expect(decision).toMatchObject({ kind: 'drop', reason: expect.stringMatching(/^expired cancel/) });
    expect(bench.dedupe.size).toBe(0);
  });

  it('drops a cancel signed with another key or not addressed to this node', async () => {
    expect(checkRequest(await inboxBody(cancel(), { signer: impostorKey.signer }), gate())).toMatchObject({
      kind: 'drop',
      reason: 'bad signature (key file:test-key.pem)',
    });
    expect(checkRequest(await inboxBody(cancel({ targets: ['web-2'] })), gate())).toMatchObject({
      kind: 'drop',
      reason: 'this node is not among the signed targets',
    });
    expect(bench.dedupe.size).toBe(0);
  });

  it('keeps the cancel of one request apart from the request itself', async () => {
    const run = request();
    expect(checkRequest(await inboxBody(run), gate()).kind).toBe('accept');

    expect(checkRequest(await inboxBody(cancel({ runId: run.runId })), gate()).kind).toBe('cancel');
  });

  it('drops a request that was cancelled before it arrived, saying so', async () => {
    const sent = request();
    bench.dedupe.claim(requestKey(sent), 'cancelled');

    expect(checkRequest(await inboxBody(sent), gate())).toEqual({
      kind: 'drop',
      reason: 'cancelled before it arrived',
      request: sent,
    });
  });
});

describe('checkRequest with a command policy', () => {
  const locked = new CommandPolicy({ default: 'deny', allow: ['uptime'], deny: [], shell: true });

  it('rejects a command the policy refuses, with the reason, and remembers it as refused', async () => {
    const sent = request({ command: { shell: 'cat /etc/shadow' } });

    const decision = checkRequest(await inboxBody(sent), gate({ policy: locked }));

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
      checkRequest(await inboxBody(request({ command: { shell: 'uptime' } })), gate({ policy: locked })).kind,
    ).toBe('accept');
  });

  it('lets a ping through a policy that refuses every command', async () => {
    const sent = request({ action: 'ping', command: undefined });

    expect(checkRequest(await inboxBody(sent), gate({ policy: locked })).kind).toBe('accept');
  });

  it('checks the signature before the policy: a forged request is dropped, not rejected', async () => {
    const forged = await inboxBody(request({ command: { shell: 'cat /etc/shadow' } }), {
      signer: impostorKey.signer,
    });

    expect(checkRequest(forged, gate({ policy: locked })).kind).toBe('drop');
  });
});

describe('checkRequest when the agent is busy', () => {
  it('rejects a new request with the reason and remembers it, so a copy redelivered once free is not run', async () => {
    const sent = request();

    const decision = checkRequest(
      await inboxBody(sent),
      gate({ busy: () => 'agent busy: 4 commands running' }),
    );
    const redelivered = checkRequest(await inboxBody(sent), gate());

    expect(decision).toEqual({
      kind: 'reject',
      request: sent,
      reason: 'agent busy: 4 commands running',
      key: requestKey(sent),
    });
    expect(redelivered).toMatchObject({ kind: 'drop', reason: 'replay: request already refused' });
  });

  it('still drops a replay rather than calling it busy', async () => {
    const sent = request();
    checkRequest(await inboxBody(sent), gate());

    expect(checkRequest(await inboxBody(sent), gate({ busy: () => 'agent busy' }))).toMatchObject({
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
    const sent = request({ targets: [NODE_ID, 'web-2'] });
    const message = await inboxBody(sent);

    const web2 = DedupeStore.open(join(other.path(), 'dedupe.jsonl'));

    expect(checkRequest(message, gate()).kind).toBe('accept');
    expect(
      checkRequest(tampered(message, { nodeId: 'web-2' }), gate({ nodeId: 'web-2', dedupe: web2 })),
    ).toMatchObject({ kind: 'accept', request: sent });
    web2.close();
  });

  it('still drops a document it accepted when the agent checks with another key', async () => {
    const message = await inboxBody(request());
    expect(checkRequest(message, gate()).kind).toBe('accept');

    expect(checkRequest(message, gate({ publicKey: impostorKey.publicKey }))).toMatchObject({
      kind: 'drop',
      reason: 'bad signature (key file:test-key.pem)',
    });
  });

  it('drops a document changed under a signature it already accepted', async () => {
    const sent = request();
    const message = await inboxBody(sent);
    expect(checkRequest(message, gate()).kind).toBe('accept');

    const forged = JSON.stringify({ ...sent, command: { shell: 'cat /etc/shadow' } });

    expect(checkRequest(tampered(message, { document: forged }), gate())).toMatchObject({
      kind: 'drop',
      reason: 'bad signature (key file:test-key.pem)',
    });
  });
});
