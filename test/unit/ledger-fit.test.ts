import { describe, expect, it } from 'vitest';
import {
  BATCH_ITEM_OVERHEAD_BYTES,
  checkLedgerFit,
  markerBytes,
  MAX_ITEM_BYTES,
} from '#functions/run/ledger-fit.ts';
import { InvalidRunRequest } from '#functions/run/state.ts';

/** EC2 instance ids: `i-` and 17 hex digits, 19 bytes. */
const ec2Ids = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `i-${(from + i).toString(16).padStart(17, '0')}`);

describe('checkLedgerFit', () => {
  it('counts every host twice (acknowledged and done)', () => {
    expect(markerBytes(ec2Ids(3))).toBe(3 * 2 * 19);
    expect(markerBytes(['nœud'])).toBe(2 * 5);
  });

  it('lets 10,000 EC2 hosts share one batch (their sets reach 380 KB of the 400 KB)', () => {
    expect(() => checkLedgerFit([ec2Ids(10_000)])).not.toThrow();
    expect(markerBytes(ec2Ids(10_000))).toBeLessThan(MAX_ITEM_BYTES - BATCH_ITEM_OVERHEAD_BYTES);
  });

  it('refuses 50,000 in one batch, naming the batch and a --batch that fits', () => {
    const ids = ec2Ids(50_000);
    expect(() => checkLedgerFit([ids])).toThrow(InvalidRunRequest);
    expect(() => checkLedgerFit([ids])).toThrow(
      'batch 1 has 50000 hosts: it counts their answers in one DynamoDB item, whose node id sets could reach 1856 KB, ' +
        'over the 400 KB an item may hold: use --batch 10563 or less',
    );
    const batches = [ids.slice(0, 10_563), ids.slice(10_563, 21_126)];
    expect(() => checkLedgerFit(batches)).not.toThrow();
    expect(() => checkLedgerFit([ids.slice(0, 10_564)])).toThrow('batch 1 has 10564 hosts');
  });

  it('names the batch that does not fit among several', () => {
    expect(() => checkLedgerFit([ec2Ids(10), ec2Ids(20_000, 10)])).toThrow('batch 2 has 20000 hosts');
  });
});
