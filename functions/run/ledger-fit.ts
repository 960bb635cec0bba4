/**
 * A batch counts its answers in one DynamoDB item: sets of the node ids that acknowledged, were
 * done, were rejected or unreachable (reply-transitions.ts). DynamoDB refuses an item over 400 KB,
 * so a batch whose sets could outgrow it would fail in ingest, mid-run; Plan refuses it instead,
 * before writing or sending anything, and names the `--batch` that fits.
 */
import { InvalidRunRequest } from '#shared/run-errors.ts';

/** DynamoDB's item size limit: 400 KB, attribute names and values in UTF-8 (developer guide, quotas). */
export const MAX_ITEM_BYTES = 400 * 1024;

/**
 * What the batch item holds besides its marker sets: keys, counters, times and two task tokens
 * (Step Functions tokens are up to 2,048 characters each), with room to spare.
 */
export const BATCH_ITEM_OVERHEAD_BYTES = 8 * 1024;

/**
 * Most bytes of node ids the batch's sets can hold: every host in two of them (acknowledged and
 * done; a rejected or unreachable host is in one).
 */
export function markerBytes(nodeIds: readonly string[]): number {
  return nodeIds.reduce((sum, id) => sum + 2 * Buffer.byteLength(id, 'utf8'), 0);
}

/** Throws InvalidRunRequest when a batch's marker sets could take its item past 400 KB. */
export function checkLedgerFit(batches: readonly (readonly string[])[]): void {
  const room = MAX_ITEM_BYTES - BATCH_ITEM_OVERHEAD_BYTES;
  for (const [index, ids] of batches.entries()) {
    const bytes = markerBytes(ids);
    if (bytes <= room) continue;
    const perHost = bytes / ids.length;
    throw new InvalidRunRequest(
      `batch ${index + 1} has ${ids.length} hosts: it counts their answers in one DynamoDB item, whose node id sets ` +
        `could reach ${Math.ceil(bytes / 1024)} KB, over the 400 KB an item may hold: use --batch ${Math.floor(room / perHost)} or less`,
    );
  }
}
