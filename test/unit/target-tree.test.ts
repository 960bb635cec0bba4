/**
 * The signed target tree (RFC 9162 Merkle tree of node ids): every target's proof verifies, and
 * nothing else does: another node id, another target's place, a changed, shortened or lengthened
 * path, another size or root.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildTargetTree, leafHash, provesTarget, type TargetProof } from '#shared/target-tree.ts';

const ids = (n: number, prefix = 'i-0123456789abcdef') =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** RFC 9162's MTH written straight from its definition, to check the tree against. */
function referenceRoot(targets: readonly string[]): Buffer {
  if (targets.length === 1) return leafHash(targets[0]!);
  let k = 1;
  while (k * 2 < targets.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(referenceRoot(targets.slice(0, k)))
    .update(referenceRoot(targets.slice(k)))
    .digest();
}

/** The same hash with one bit flipped. */
function flipped(hash: string): string {
  const bytes = Buffer.from(hash, 'base64');
  bytes[0]! ^= 1;
  return bytes.toString('base64');
}

describe('target tree', () => {
  it('has the RFC 9162 root: one leaf is its own leaf hash, more are split at a power of two', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 500]) {
      const targets = ids(n);
      expect(buildTargetTree(targets).tree).toEqual({
        root: referenceRoot(targets).toString('base64'),
        size: n,
      });
    }
    expect(leafHash('web-1')).toEqual(createHash('sha256').update('\0web-1').digest());
  });

  it('proves every target of trees of 1 to 70 hosts, and 500, each with its own proof only', () => {
    for (const n of [...Array.from({ length: 70 }, (_, i) => i + 1), 500]) {
      const targets = ids(n);
      const { tree, proof } = buildTargetTree(targets);
      targets.forEach((id, i) => {
        expect(provesTarget(tree, id, proof(i))).toBe(true);
        expect(proof(i).path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        // Another target's proof, and an outsider with this target's proof, fail.
        if (n > 1) expect(provesTarget(tree, id, proof((i + 1) % n))).toBe(false);
        expect(provesTarget(tree, `${id}x`, proof(i))).toBe(false);
      });
    }
  });

  it('refuses a proof with a changed hash, a path cut short or lengthened, or the wrong index', () => {
    const targets = ids(37);
    const { tree, proof } = buildTargetTree(targets);
    const good = proof(20);
    const forged: TargetProof[] = [
      ...good.path.map((h, i) => ({ ...good, path: good.path.map((p, j) => (j === i ? flipped(h) : p)) })),
      { ...good, path: good.path.slice(0, -1) },
      { ...good, path: good.path.slice(1) },
      { ...good, path: [...good.path, good.path[0]!] },
      { ...good, index: 21 },
      { ...good, index: 37 },
      { ...good, index: 2 ** 40 },
      { ...good, path: [] },
      { ...good, index: -1 },
      { ...good, index: 20.5 },
    ];
    for (const p of forged) expect(provesTarget(tree, targets[20]!, p)).toBe(false);
  });

  it('refuses a good proof against another size or another group’s root', () => {
    const targets = ids(37);
    const { tree, proof } = buildTargetTree(targets);
    const other = buildTargetTree(ids(37, 'i-feedface')).tree;
    expect(provesTarget({ ...tree, size: 38 }, targets[36]!, proof(36))).toBe(false);
    expect(provesTarget({ ...tree, size: 36 }, targets[36]!, proof(36))).toBe(false);
    expect(provesTarget({ ...tree, root: other.root }, targets[5]!, proof(5))).toBe(false);
  });

  it('cannot pass an inner node off as a leaf: a subtree root with the rest of the path fails', () => {
    // Leaves are hashed with 0x00 and inner nodes with 0x01: the left half's root is not a leaf.
    const targets = ids(8);
    const { tree, proof } = buildTargetTree(targets);
    const upper = { index: 0, path: proof(0).path.slice(2) };
    expect(provesTarget({ ...tree, size: 2 }, targets[0]!, upper)).toBe(false);
    expect(provesTarget(tree, targets[0]!, upper)).toBe(false);
  });

  it('refuses a hash that is not 32 bytes, rather than throwing', () => {
    const { tree, proof } = buildTargetTree(ids(4));
    const good = proof(1);
    const short = { ...good, path: [Buffer.alloc(31).toString('base64'), ...good.path.slice(1)] };
    expect(provesTarget(tree, ids(4)[1]!, short)).toBe(false);
  });

  it('holds for any list of distinct ids: each proves itself, and no outsider proves with it', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 24 }), { minLength: 1, maxLength: 90 }),
        fc.nat(),
        fc.string({ minLength: 1, maxLength: 24 }),
        (targets, pick, outsider) => {
          const { tree, proof } = buildTargetTree(targets);
          const i = pick % targets.length;
          expect(provesTarget(tree, targets[i]!, proof(i))).toBe(true);
          if (!targets.includes(outsider)) expect(provesTarget(tree, outsider, proof(i))).toBe(false);
        },
      ),
    );
  });

  it('builds no tree of nothing and no proof beyond its leaves', () => {
    expect(() => buildTargetTree([])).toThrow(RangeError);
    expect(() => buildTargetTree(['a']).proof(1)).toThrow(RangeError);
  });
});
