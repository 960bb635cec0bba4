/**
 * The targets of a signed request as a Merkle tree (RFC 9162, section 2.1, with SHA-256): the
 * signed document carries the tree's root and size, and each host's message only its inclusion
 * proof (about log2(size) hashes), not the list of every target of its group. At 500 targets of
 * EC2-length ids that is ~0.4 KB per message instead of ~10 KB, which every SQS call, the
 * emulator and the agent would otherwise serialise, hash and parse for every host.
 *
 * Why this is as strong as the list: a proof verifies only for a node id that is one of the
 * leaves (finding another would need a SHA-256 collision), and the agent hashes its own node id,
 * never one taken from the message, so a host cannot use another host's message. Leaves and
 * inner nodes are hashed with different prefixes (0x00, 0x01), so an inner node cannot pass for
 * a leaf, and the signed size fixes the tree's shape.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Length in bytes of a SHA-256 digest; every hash below is one. */
const HASH_BYTES = 32;
/** Base64 of 32 bytes: 43 characters and one `=`. */
const BASE64_HASH = /^[A-Za-z0-9+/]{43}=$/;

/** More than any tree a dispatch group makes (2^32 leaves); bounds what an agent will hash. */
export const MAX_PROOF_HASHES = 32;

/** What the signed document says of its targets: the root of their tree and how many there are. */
export const targetTreeSchema = z
  .object({
    /** Base64 of the RFC 9162 Merkle tree hash of the target node ids, in dispatch order. */
    root: z.string().regex(BASE64_HASH, 'a target tree root is the base64 of 32 bytes'),
    size: z
      .number()
      .int()
      .min(1)
      .max(2 ** 32),
  })
  .strict();
export type TargetTree = z.infer<typeof targetTreeSchema>;

/** What a host's message carries besides the signed document: where it is in the tree, and how. */
export const targetProofSchema = z
  .object({
    index: z.number().int().min(0),
    /** Base64 SHA-256 hashes, from the leaf's sibling up to the root's child (RFC 9162 order). */
    path: z
      .array(z.string().regex(BASE64_HASH, 'a proof hash is the base64 of 32 bytes'))
      .max(MAX_PROOF_HASHES),
  })
  .strict();
export type TargetProof = z.infer<typeof targetProofSchema>;

const sha256 = (...parts: Buffer[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

/** The leaf hash of a node id: SHA-256(0x00 ‖ UTF-8 of the id). */
export const leafHash = (nodeId: string): Buffer => sha256(LEAF, Buffer.from(nodeId, 'utf8'));
const nodeHash = (left: Buffer, right: Buffer): Buffer => sha256(NODE, left, right);

/** The largest power of two below n (n > 1): where RFC 9162 splits a tree of n leaves. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A tree over `targets` with its root and every leaf's inclusion proof. */
export interface BuiltTargetTree {
  tree: TargetTree;
  /** The proof of the `index`th target. */
  proof(index: number): TargetProof;
}

/**
 * Builds the tree of `targets` (in order; at least one). Every subtree hash is kept, so all the
 * proofs of a group cost one pass over the leaves and log2(size) lookups each.
 */
export function buildTargetTree(targets: readonly string[]): BuiltTargetTree {
  if (targets.length === 0) throw new RangeError('a target tree needs at least one target');
  const leaves = targets.map(leafHash);
  const memo = new Map<string, Buffer>();
  const hashOf = (start: number, end: number): Buffer => {
    if (end - start === 1) return leaves[start]!;
    const id = `${start}:${end}`;
    let hash = memo.get(id);
    if (!hash) {
      const k = split(end - start);
      hash = nodeHash(hashOf(start, start + k), hashOf(start + k, end));
      memo.set(id, hash);
    }
    return hash;
  };
  const root = hashOf(0, leaves.length);
  return {
    tree: { root: root.toString('base64'), size: leaves.length },
    proof(index) {
      if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
        throw new RangeError(`no target ${index} in a tree of ${leaves.length}`);
      // RFC 9162 2.1.3.1 PATH(m, D[start:end]), walked from the root down, read back leaf-first.
      const path: Buffer[] = [];
      let [start, end, m] = [0, leaves.length, index];
      while (end - start > 1) {
        const k = split(end - start);
        if (m < k) {
          path.push(hashOf(start + k, end));
          end = start + k;
        } else {
          path.push(hashOf(start, start + k));
          start += k;
          m -= k;
        }
      }
      return { index, path: path.reverse().map((h) => h.toString('base64')) };
    },
  };
}

/**
 * True when `proof` shows `nodeId` to be a leaf of `tree` (RFC 9162 2.1.3.2). Anything malformed
 * (index past the size, a path too short or too long, a hash not 32 bytes) is false, not a throw.
 */
export function provesTarget(tree: TargetTree, nodeId: string, proof: TargetProof): boolean {
  const { index } = proof;
  if (!Number.isSafeInteger(index) || index < 0 || index >= tree.size) return false;
  if (proof.path.length > MAX_PROOF_HASHES) return false;
  let fn = index;
  let sn = tree.size - 1;
  let r = leafHash(nodeId);
  for (const encoded of proof.path) {
    const p = Buffer.from(encoded, 'base64');
    if (sn === 0 || p.length !== HASH_BYTES) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      // A right edge with no right sibling at this level: climb until this node is a right child.
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(Buffer.from(tree.root, 'base64'));
}
