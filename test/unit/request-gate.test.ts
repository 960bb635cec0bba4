import { beforeEach, describe, expect, it } from 'vitest';
import { checkRequest, requestKey } from '#agent/receive/request-gate.ts';
import { LocalKeySigner } from '#shared/signing.ts';
import { MAX_REQUEST_LIFETIME_SEC } from '#shared/request-expiry.ts';
import { MESSAGE_VERSION, type InboxMessage, type SignedRequest } from '#shared/messages.ts';
import type { HostFacts } from '#shared/filter/index.ts';
import { signedRequest } from '../helpers/factories.ts';
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
