/**
 * Who this host is on EC2. Whether it runs on EC2 is read from the DMI data the hypervisor gives
 * the kernel (`/sys/class/dmi/id`), never by probing the network; only then (or when told to)
 * does the agent ask the instance metadata service, with IMDSv2 session tokens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_DMI_DIR = '/sys/class/dmi/id';
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const TOKEN_TTL_SEC = 21_600;
const REQUEST_TIMEOUT_MS = 2_000;
const ATTEMPTS = 3;

export interface Ec2Detection {
  onEc2: boolean;
  /** On Nitro instances the board asset tag is the instance id. */
  instanceId?: string;
  /** Which DMI file said so, for the log. */
  evidence?: string;
}

/**
 * Reads the DMI files that identify an EC2 instance: `board_asset_tag` (the instance id on
 * Nitro), `sys_vendor` and `bios_vendor` ("Amazon EC2"), `product_uuid` (starts with "ec2" on
 * Xen instances; readable by root only). Unreadable files count as "not EC2".
 */
export function detectEc2(dmiDir: string = DEFAULT_DMI_DIR): Ec2Detection {
  const read = (name: string): string => {
    try {
      return readFileSync(join(dmiDir, name), 'utf8').trim();
    } catch {
      return '';
    }
  };
  const assetTag = read('board_asset_tag');
  if (INSTANCE_ID.test(assetTag)) return { onEc2: true, instanceId: assetTag, evidence: 'board_asset_tag' };
  for (const name of ['sys_vendor', 'bios_vendor']) {
    if (/amazon ec2/i.test(read(name))) return { onEc2: true, evidence: name };
  }
  if (/^ec2/i.test(read('product_uuid'))) return { onEc2: true, evidence: 'product_uuid' };
  return { onEc2: false };
}

/** What the metadata service says about this instance. */
export interface Ec2Identity {
  instanceId: string;
  instanceType?: string;
  amiId?: string;
  region?: string;
  availabilityZone?: string;
  privateIp?: string;
  /** Only when the instance exposes its tags in metadata and belongs to an Auto Scaling group. */
  asgName?: string;
}

/** The metadata service could not be reached or gave no instance id. */
export class MetadataError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetadataError';
  }
}

/**
 * Reads the instance's identity from IMDSv2 at `endpoint`: a session token first (PUT), then the
 * metadata paths with it. Missing optional paths (404, e.g. tags not exposed) are left out.
 * Throws {@link MetadataError} when the service is unreachable or has no instance id.
 */
export async function readEc2Identity(
  endpoint: string,
  fetchImpl: typeof fetch = fetch,
): Promise<Ec2Identity> {
  const base = endpoint.replace(/\/+$/, '');
  const token = await withRetries(async () => {
    const response = await fetchImpl(`${base}/latest/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SEC) },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    if (!response.ok) throw new MetadataError(`token request answered HTTP ${response.status}`);
    return response.text();
  }, `cannot get an IMDSv2 token from ${base}`);

  const get = (path: string): Promise<string | undefined> =>
    withRetries(async () => {
      const response = await fetchImpl(`${base}/latest/meta-data/${path}`, {
        headers: { 'x-aws-ec2-metadata-token': token },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new MetadataError(`${path} answered HTTP ${response.status}`);
      return (await response.text()).trim();
    }, `cannot read ${path} from ${base}`);

  const [instanceId, instanceType, amiId, region, availabilityZone, privateIp, asgName] = await Promise.all([
    get('instance-id'),
    get('instance-type'),
    get('ami-id'),
    get('placement/region'),
    get('placement/availability-zone'),
    get('local-ipv4'),
    get('tags/instance/aws:autoscaling:groupName'),
  ]);
  if (!instanceId) throw new MetadataError(`${base} gave no instance id`);
  return definedOnly({ instanceId, instanceType, amiId, region, availabilityZone, privateIp, asgName });
}

/** The facts an EC2 host adds: an `ec2` map, plus `region`, `az`, `instance_type` and `asg`. */
export function ec2Facts(identity: Ec2Identity): Record<string, unknown> {
  return definedOnly({
    ec2: definedOnly({
      instance_id: identity.instanceId,
      instance_type: identity.instanceType,
      ami_id: identity.amiId,
      region: identity.region,
      availability_zone: identity.availabilityZone,
      private_ip: identity.privateIp,
      asg_name: identity.asgName,
    }),
    region: identity.region,
    az: identity.availabilityZone,
    instance_type: identity.instanceType,
    asg: identity.asgName,
  });
}

async function withRetries<T>(attempt: () => Promise<T>, what: string): Promise<T> {
  let last: unknown;
  for (let i = 0; i < ATTEMPTS; i++) {
    try {
      return await attempt();
    } catch (e: unknown) {
      last = e;
      await new Promise((r) => setTimeout(r, 100 * 2 ** i));
    }
  }
  const reason = last instanceof Error ? last.message : String(last);
  throw new MetadataError(`${what}: ${reason}`, { cause: last });
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The AWS partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, else `aws`. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The instance's ARN, as IAM sees it in `ec2:SourceInstanceARN` for calls made with the instance
 * role: the agent tags its inbox with it, and the agent policy lets an instance use only the inbox
 * carrying its own ARN. The account is the replies queue's (its URL is `…/<account>/<name>`).
 * Undefined when the URL has no account segment (then the inbox is not tagged).
 */
export function instanceArn(instanceId: string, region: string, repliesQueueUrl: string): string | undefined {
  let account: string | undefined;
  try {
    account = new URL(repliesQueueUrl).pathname.split('/')[1];
  } catch {
    return undefined;
  }
  if (account === undefined || !/^\d{12}$/.test(account)) return undefined;
  return `arn:${partitionOf(region)}:ec2:${region}:${account}:instance/${instanceId}`;
}
