import { describe, expect, it } from 'vitest';
import {
  checkLedgerFit,
  markerBytes,
  MAX_ITEM_BYTES,
  TALLY_ITEM_OVERHEAD_BYTES,
} from '#functions/run/ledger-fit.ts';
import { DISPATCH_GROUP_SIZE, InvalidRunRequest } from '#functions/run/state.ts';
import { MAX_NAME_LENGTH } from '#shared/messages.ts';

/** EC2 instance ids: `i-` and 17 hex digits, 19 bytes. */
const ec2Ids = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => `i-${(from + i).toString(16).padStart(17, '0')}`);

/** Ids as long as a host may give (256 characters, ASCII), distinct. */
const longIds = (count: number) =>
  Array.from({ length: count }, (_, i) => String(i).padStart(MAX_NAME_LENGTH, 'h'));

describe('checkLedgerFit', () => {
  it('counts every host twice (acknowledged and done)', () => {
    expect(markerBytes(ec2Ids(3))).toBe(3 * 2 * 19);
    expect(markerBytes(['nœud'])).toBe(2 * 5);
  });

  it('fits a default group of the longest ASCII node ids in one tally', () => {
    expect(markerBytes(longIds(DISPATCH_GROUP_SIZE))).toBe(DISPATCH_GROUP_SIZE * 2 * MAX_NAME_LENGTH);
    expect(markerBytes(longIds(DISPATCH_GROUP_SIZE))).toBeLessThan(
      MAX_ITEM_BYTES - TALLY_ITEM_OVERHEAD_BYTES,
    );
    expect(() => checkLedgerFit([longIds(5_000)], DISPATCH_GROUP_SIZE)).not.toThrow();
  });

  it('lets 50,000 EC2 hosts share one batch: each group counts in its own tally', () => {
    expect(() => checkLedgerFit([ec2Ids(50_000)], DISPATCH_GROUP_SIZE)).not.toThrow();
  });

  it('refuses a batch whose larger groups (past 100,000 hosts) of long ids outgrow a tally, naming a --batch that fits', () => {
    // 160,000 hosts make 200 groups of 800; 800 ids of 256 bytes in two sets are 400 KB.
    const ids = longIds(160_000);
    expect(() => checkLedgerFit([ids], DISPATCH_GROUP_SIZE)).toThrow(InvalidRunRequest);
    expect(() => checkLedgerFit([ids], DISPATCH_GROUP_SIZE)).toThrow(
      'batch 1 has 160000 hosts, in dispatch groups of 800: group 1 counts its answers in one DynamoDB item, ' +
        'whose node id sets could reach 400 KB, over the 400 KB an item may hold: use --batch 158400 or less',
    );
    expect(() => checkLedgerFit([ids.slice(0, 158_400)], DISPATCH_GROUP_SIZE)).not.toThrow();
    expect(() => checkLedgerFit([ids.slice(0, 158_401)], DISPATCH_GROUP_SIZE)).toThrow(
      'batch 1 has 158401 hosts',
    );
  });

  it('names the group size to set when even the configured group does not fit', () => {
    // Multi-byte ids: 256 characters of 4 bytes each.
    const wide = Array.from(
      { length: 500 },
      (_, i) => '😀'.repeat(MAX_NAME_LENGTH / 2 - 4) + String(i).padStart(8, '0'),
    );
    expect(() => checkLedgerFit([wide], DISPATCH_GROUP_SIZE)).toThrow(
      /set DROVER_DISPATCH_GROUP_SIZE to \d+ or less/,
    );
  });

  it('names the batch that does not fit among several', () => {
    expect(() => checkLedgerFit([ec2Ids(10), longIds(160_000)], DISPATCH_GROUP_SIZE)).toThrow(
      'batch 2 has 160000 hosts',
    );
  });
});
