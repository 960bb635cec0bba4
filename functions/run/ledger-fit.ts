/**
 * Each dispatch group counts its answers in one DynamoDB item, its tally: sets of the node ids
 * that acknowledged, were done, were rejected or unreachable (reply-transitions.ts). DynamoDB
 * refuses an item over 400 KB, so a group whose sets could outgrow it would fail in ingest,
 * mid-run; Plan refuses it instead, before writing or sending anything, and names the `--batch`
 * that fits. A group has at most 500 hosts unless its batch has more than 100,000 (then a batch's
 * 200 groups grow), so only such batches of long node ids can meet the limit; the batch's own
 * size is not bounded by it.
 */
import { InvalidRunRequest } from '#shared/run-errors.ts';
import { MAX_GROUPS_PER_BATCH } from './state.ts';
import { GROUP_SIZE_ENV, groupSizeFor } from './dispatch-groups.ts';

/** DynamoDB's item size limit: 400 KB, attribute names and values in UTF-8 (developer guide, quotas). */
export const MAX_ITEM_BYTES = 400 * 1024;

/** What a tally holds besides its marker sets: keys, batch, group, counts, with room to spare. */
export const TALLY_ITEM_OVERHEAD_BYTES = 4 * 1024;

/**
 * Most bytes of node ids a group's sets can hold: every host in two of them (acknowledged and
 * done; a rejected or unreachable host is in one).
 */
export function markerBytes(nodeIds: readonly string[]): number {
  return nodeIds.reduce((sum, id) => sum + 2 * Buffer.byteLength(id, 'utf8'), 0);
}

/**
 * Throws InvalidRunRequest when a dispatch group's marker sets could take its tally past 400 KB.
 * `batches`: each batch's node ids, in order; `configured`: the configured group size.
 */
export function checkLedgerFit(batches: readonly (readonly string[])[], configured: number): void {
  const room = MAX_ITEM_BYTES - TALLY_ITEM_OVERHEAD_BYTES;
  for (const [index, ids] of batches.entries()) {
    const size = groupSizeFor(ids.length, configured);
    for (let start = 0; start < ids.length; start += size) {
      const group = ids.slice(start, start + size);
      const bytes = markerBytes(group);
      if (bytes <= room) continue;
      const fitting = Math.floor(room / (bytes / group.length));
      // Groups never get smaller than configured: past that, only a smaller configured size helps.
      const remedy =
        fitting >= configured
          ? `use --batch ${fitting * MAX_GROUPS_PER_BATCH} or less`
          : `set ${GROUP_SIZE_ENV} to ${fitting} or less`;
      throw new InvalidRunRequest(
        `batch ${index + 1} has ${ids.length} hosts, in dispatch groups of ${size}: group ${start / size + 1} counts ` +
          `its answers in one DynamoDB item, whose node id sets could reach ${Math.ceil(bytes / 1024)} KB, over the ` +
          `400 KB an item may hold: ${remedy}`,
      );
    }
  }
}
