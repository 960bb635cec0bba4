/**
 * The request gate with a document that names its targets by a signed Merkle root (what Dispatch
 * sends): a host runs it only with a proof for its own node id; another host's message, a forged,
 * missing or misplaced proof, a changed root or size, or a document naming its targets twice is
 * dropped.
 */
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DedupeStore } from '#agent/receive/dedupe-store.ts';
import { checkRequest, requestKey } from '#agent/receive/request-gate.ts';
import { MESSAGE_VERSION, type InboxMessage, type SignedRequest } from '#shared/messages.ts';
import { buildTargetTree, type TargetProof } from '#shared/target-tree.ts';
import type { HostFacts } from '#shared/filter/index.ts';
import { signedRequest } from '../helpers/factories.ts';
import { gateBench, NODE_ID, NOW } from '../helpers/gate-bench.ts';
import { tempDirPerTest } from '../helpers/temp-dir.ts';

let hostFacts: HostFacts;
const bench = gateBench(() => hostFacts);
const other = tempDirPerTest('drover-gate-tree-');

beforeEach(() => {
  hostFacts = { identity: NODE_ID, facts: { role: 'web' }, classes: [] };
});

const TARGETS = ['web-0', NODE_ID, 'web-2', 'web-3', 'web-4'];
const built = buildTargetTree(TARGETS);
const MINE = TARGETS.indexOf(NODE_ID);

/** A request of the batch, valid at NOW, naming TARGETS by their tree. */
function request(overrides: Partial<SignedRequest> = {}): SignedRequest {
  const { targets: _listed, ...base } = signedRequest({ issuedAt: NOW - 1_000, expiresAt: NOW + 60_000 });
  return { ...base, targetTree: built.tree, ...overrides };
}

/** What Dispatch sends one host: the signed document, its signature, the host's proof. */
async function inboxBody(
  document: SignedRequest,
  options: { nodeId?: string; proof?: TargetProof | null; tamper?: (signed: string) => string } = {},
): Promise<string> {
  const signed = JSON.stringify(document);
  const message: InboxMessage = {
    v: MESSAGE_VERSION,
    nodeId: options.nodeId ?? NODE_ID,
    request: options.tamper ? options.tamper(signed) : signed,
    signature: await bench.dispatch.signer.sign(signed),
    ...(options.proof === null ? {} : { targetProof: options.proof ?? built.proof(MINE) }),
  };
  return JSON.stringify(message);
}

const notTarget = 'this node is not among the signed targets';

describe('checkRequest with a signed target tree', () => {
  it('accepts a request with this node’s own proof, and remembers it', async () => {
    const sent = request();

    expect(checkRequest(await inboxBody(sent), bench.gate())).toEqual({
      kind: 'accept',
      request: sent,
      key: requestKey(sent),
    });
  });

  it('drops another target’s message re-addressed to this node: its proof is for that host', async () => {
    // What a host that read web-2's message could do: change the unsigned addressee to itself.
    const body = await inboxBody(request(), { proof: built.proof(TARGETS.indexOf('web-2')) });

    expect(checkRequest(body, bench.gate())).toMatchObject({ kind: 'drop', reason: notTarget });
    expect(bench.dedupe.has(requestKey(request()))).toBe(false);
  });

  it('drops a message for a host outside the group, whatever proof of the group it carries', async () => {
    for (let i = 0; i < TARGETS.length; i++) {
      const body = await inboxBody(request(), { nodeId: 'db-9', proof: built.proof(i) });
      expect(checkRequest(body, bench.gate({ nodeId: 'db-9' }))).toMatchObject({
        kind: 'drop',
        reason: notTarget,
      });
    }
  });

  it('drops a message without a proof, or with a proof changed in its path or index', async () => {
    const mine = built.proof(MINE);
    const bodies = [
      await inboxBody(request(), { proof: null }),
      await inboxBody(request(), { proof: { ...mine, index: MINE + 1 } }),
      await inboxBody(request(), { proof: { ...mine, path: mine.path.slice(1) } }),
      await inboxBody(request(), { proof: { ...mine, path: [...mine.path].reverse() } }),
    ];
    for (const body of bodies) {
      expect(checkRequest(body, bench.gate())).toMatchObject({ kind: 'drop', reason: notTarget });
    }
  });

  it('drops a proof that is not 32-byte hashes as a malformed message', async () => {
    const body = await inboxBody(request(), { proof: { index: MINE, path: ['bm90IGEgaGFzaA=='] } });

    expect(checkRequest(body, bench.gate())).toMatchObject({
      kind: 'drop',
      reason: expect.stringMatching(/^malformed message: targetProof/),
    });
  });

  it('drops a document whose root or size was changed after signing: the signature fails', async () => {
    const other = buildTargetTree([NODE_ID]);
    const changes = [
      (signed: string) => signed.replace(built.tree.root, other.tree.root),
      (signed: string) => signed.replace('"size":5', '"size":1'),
    ];
    for (const tamper of changes) {
      const body = await inboxBody(request(), { tamper, proof: other.proof(0) });
      expect(checkRequest(body, bench.gate())).toMatchObject({
        kind: 'drop',
        reason: expect.stringMatching(/^bad signature/),
      });
    }
  });

  it('drops an authentic document that is signed for a tree this node is not in', async () => {
    const elsewhere = buildTargetTree(['web-7', 'web-8']);
    const body = await inboxBody(request({ targetTree: elsewhere.tree }), { proof: elsewhere.proof(0) });

    expect(checkRequest(body, bench.gate())).toMatchObject({ kind: 'drop', reason: notTarget });
  });

  it('drops an authentic document that names its targets both ways, or neither', async () => {
    const both = await inboxBody(request({ targets: [NODE_ID] }));
    const { targetTree: _tree, ...neither } = request();

    for (const body of [both, await inboxBody(neither as SignedRequest)]) {
      expect(checkRequest(body, bench.gate())).toMatchObject({
        kind: 'drop',
        reason: expect.stringMatching(/^malformed request: targets: a signed request names its targets once/),
      });
    }
  });

  it('lets each target of one signed document in with its own proof (agents of one process)', async () => {
    const sent = request();
    const web2 = TARGETS.indexOf('web-2');
    const mine = await inboxBody(sent);
    const theirs = await inboxBody(sent, { nodeId: 'web-2', proof: built.proof(web2) });

    const stores = ['web-2', 'web-3'].map((id) => DedupeStore.open(join(other.path(), `${id}.jsonl`)));
    const [web2Store, web3Store] = stores as [DedupeStore, DedupeStore];

    expect(checkRequest(mine, bench.gate()).kind).toBe('accept');
    // web-2's check reuses the verified document, but its proof is checked for web-2 itself.
    expect(checkRequest(theirs, bench.gate({ nodeId: 'web-2', dedupe: web2Store })).kind).toBe('accept');
    expect(
      checkRequest(
        await inboxBody(sent, { nodeId: 'web-3', proof: built.proof(web2) }),
        bench.gate({ nodeId: 'web-3', dedupe: web3Store }),
      ),
    ).toMatchObject({ kind: 'drop', reason: notTarget });
    for (const store of stores) store.close();
  });
});
