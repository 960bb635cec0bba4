/**
 * The parts of the cost model (model.ts) that grow with a large fleet: the answer sets' write
 * units as the runs table counts them per dispatch group, and what the stage's large-fleet params
 * cost when they are set (docs/deploy.md "Large fleets"): ingest's provisioned event pollers and
 * the tables' warm throughput.
 */
import type { Assumptions, Prices } from './parameters.ts';

/** Hosts per dispatch group: Dispatch signs and sends one group per invocation. */
export const DISPATCH_GROUP_HOSTS = 500;
/** A group's tally item without its sets: keys, counters and attribute names (bytes, approximate). */
const TALLY_BASE_BYTES = 100;
/** DynamoDB bills a write by whole 1 KB units, of the larger of the item before and after. */
const WRITE_UNIT_BYTES = 1024;
/** A new on-demand table (and index) serves this much at once without pre-warming. */
const WARM_DEFAULT = { reads: 12_000, writes: 4_000 } as const;
/** An event poller moves about 1 MB a second of an SQS queue (Lambda pricing, "Provisioned Mode"). */
const POLLER_BYTES_PER_SECOND = 1024 * 1024;
/** Provisioned pollers are billed per second with a 1-minute minimum (Lambda pricing). */
const POLLER_MINIMUM_HOURS = 1 / 60;
const HOURS_PER_MONTH = 30 * 24;

/**
 * Write units of one dispatch group's tally item over a batch: every ingest invocation adds its
 * replies (up to `repliesPerIngest`, each a node id in the group's acknowledged or finished set) to
 * the item, and is billed the item's new size in whole kilobytes, so the item's growth to about
 * 2 × hosts × id bytes is paid again at every update: about hosts²·id bytes / (512 × replies a
 * call) units a group. One more small write marks the group complete on the batch item.
 */
export function groupTallyWriteUnits(
  groupHosts: number,
  repliesPerIngest: number,
  tallyMemberBytes: number,
): number {
  if (groupHosts <= 0) return 0;
  const replies = 2 * groupHosts;
  const perUpdate = Math.max(1, Math.floor(repliesPerIngest));
  let units = 0;
  for (let landed = perUpdate; landed < replies + perUpdate; landed += perUpdate) {
    const bytes = TALLY_BASE_BYTES + Math.min(landed, replies) * tallyMemberBytes;
    units += Math.ceil(bytes / WRITE_UNIT_BYTES);
  }
  return units + 1;
}

/** The tally write units of one batch of `hosts`, split into dispatch groups of at most 500. */
export function batchTallyWriteUnits(
  hosts: number,
  repliesPerIngest: number,
  tallyMemberBytes: number,
): number {
  const whole = Math.floor(hosts / DISPATCH_GROUP_HOSTS);
  const rest = hosts - whole * DISPATCH_GROUP_HOSTS;
  return (
    whole * groupTallyWriteUnits(DISPATCH_GROUP_HOSTS, repliesPerIngest, tallyMemberBytes) +
    groupTallyWriteUnits(rest, repliesPerIngest, tallyMemberBytes)
  );
}

/** Tally write units of a month's runs (batches of equal size). */
export function tallyWriteUnits(a: Assumptions, batches: number): number {
  if (batches <= 0 || a.hostsPerRun <= 0) return 0;
  const perBatch = a.hostsPerRun / a.batchesPerRun;
  return batches * batchTallyWriteUnits(Math.round(perBatch), a.repliesPerIngest, a.tallyMemberBytes);
}

/** The event poller hours a month of the replies queue's provisioned mode (0 in standard mode). */
export function pollerHours(a: Assumptions, runs: number) {
  if (a.ingestMinPollers <= 0) return { standing: 0, scaling: 0 };
  const maximum = a.ingestMaxPollers > 0 ? a.ingestMaxPollers : Math.max(200, a.ingestMinPollers);
  // A run's replies (acknowledgement and result, each a message with its output) moved in about a
  // second at 1 MB/s a poller, beyond the minimum, billed for the 1-minute minimum each run.
  const replyBytes = a.hostsPerRun * (2 * 1024 + a.outputKb * 1024);
  const extra = Math.min(
    Math.max(0, maximum - a.ingestMinPollers),
    Math.ceil(replyBytes / POLLER_BYTES_PER_SECOND),
  );
  return { standing: a.ingestMinPollers * HOURS_PER_MONTH, scaling: runs * extra * POLLER_MINIMUM_HOURS };
}

/**
 * The units a second the stage's warm throughput raises above a new table's, each paid once when
 * the table is pre-warmed: the runs table's reads and writes, its byResult index's writes (warmed
 * with the table's), the nodes table's reads and writes.
 */
export function warmUnitsRaised(a: Assumptions): { reads: number; writes: number } {
  const above = (value: number, base: number) => Math.max(0, value - base);
  return {
    reads: above(a.runsWarmReads, WARM_DEFAULT.reads) + above(a.nodesWarmReads, WARM_DEFAULT.reads),
    writes: 2 * above(a.runsWarmWrites, WARM_DEFAULT.writes) + above(a.nodesWarmWrites, WARM_DEFAULT.writes),
  };
}

/** A charge paid once (when the stage is deployed), not every month. */
export interface OneTimeLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  usd: number;
}

/** The warm throughput raised, paid once when deployed (none while the params are off). */
export function oneTimeLines(a: Assumptions, p: Prices): OneTimeLine[] {
  const raised = warmUnitsRaised(a);
  if (raised.reads + raised.writes === 0) return [];
  return [
    {
      service: 'DynamoDB',
      item: 'warm throughput raised above a new table (read and write units a second)',
      quantity: raised.reads + raised.writes,
      unit: 'units/s',
      usd: raised.reads * p.warmReadUnit + raised.writes * p.warmWriteUnit,
    },
  ];
}
