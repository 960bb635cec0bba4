/** EC2 detection from DMI data, IMDSv2 identity, and the identity the agent ends up with. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetadataError, detectEc2, ec2Facts, readEc2Identity } from '#agent/setup/ec2.ts';
import { prepareAgents, type Runtime } from '#agent/setup/startup.ts';
import { AgentConfigError } from '#agent/setup/config.ts';
import { INSTANCE, startFakeImds, type FakeImds } from '../helpers/fake-imds.ts';

let dir: string;
let dmi: string;
let imds: FakeImds | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'drover-ec2-'));
  dmi = join(dir, 'dmi');
  mkdirSync(dmi);
});

afterEach(async () => {
  await imds?.close();
  imds = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function dmiFiles(files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dmi, name), `${content}\n`);
}

describe('detectEc2', () => {
  it('reads the instance id from the board asset tag of a Nitro instance', () => {
    dmiFiles({ board_asset_tag: 'i-0123456789abcdef0', sys_vendor: 'Amazon EC2' });

    expect(detectEc2(dmi)).toEqual({
      onEc2: true,
      instanceId: 'i-0123456789abcdef0',
      evidence: 'board_asset_tag',
    });
  });

  it('recognises EC2 from the vendor strings or a Xen product uuid', () => {
    dmiFiles({ sys_vendor: 'Amazon EC2' });
    expect(detectEc2(dmi)).toEqual({ onEc2: true, evidence: 'sys_vendor' });

    rmSync(join(dmi, 'sys_vendor'));
    dmiFiles({ product_uuid: 'EC2E1916-9099-7CAF-FD21-012345678901' });
    expect(detectEc2(dmi)).toEqual({ onEc2: true, evidence: 'product_uuid' });
  });

  it('says not EC2 for other machines and unreadable DMI', () => {
    dmiFiles({ sys_vendor: 'QEMU', board_asset_tag: 'none', product_uuid: '4c4c4544-0000' });
    expect(detectEc2(dmi).onEc2).toBe(false);
    expect(detectEc2(join(dir, 'no-such-dir')).onEc2).toBe(false);
  });
});

describe('readEc2Identity', () => {
  it('gets a session token, then the identity with it', async () => {
    imds = await startFakeImds();

    const identity = await readEc2Identity(imds.url);

    expect(identity).toEqual({
      instanceId: INSTANCE['instance-id'],
      instanceType: 'm7g.large',
      amiId: 'ami-0abcdef1234567890',
      region: 'eu-west-1',
      availabilityZone: 'eu-west-1b',
      privateIp: '10.1.2.3',
      asgName: 'web-asg',
    });
    expect(imds.requests[0]).toBe('PUT /latest/api/token');
  });

  it('leaves out the Auto Scaling group when the instance exposes no tags', async () => {
    const { 'tags/instance/aws:autoscaling:groupName': _untagged, ...untagged } = INSTANCE;
    imds = await startFakeImds(untagged);

    const identity = await readEc2Identity(imds.url);

    expect(identity.asgName).toBeUndefined();
    expect(ec2Facts(identity)).toEqual({
      ec2: {
        instance_id: INSTANCE['instance-id'],
        instance_type: 'm7g.large',
        ami_id: 'ami-0abcdef1234567890',
        region: 'eu-west-1',
        availability_zone: 'eu-west-1b',
        private_ip: '10.1.2.3',
      },
      region: 'eu-west-1',
      az: 'eu-west-1b',
      instance_type: 'm7g.large',
    });
  });

  it('throws a typed error when the service does not answer', async () => {
    imds = await startFakeImds();
    const url = imds.url;
    await imds.close();
    imds = undefined;

    await expect(readEc2Identity(url)).rejects.toThrow(MetadataError);
  });
});

function publicKeyFile(): string {
  const path = join(dir, 'key.pem');
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(path, publicKey.export({ type: 'spki', format: 'pem' }));
  return path;
}

/** A host configured from the environment alone, its log lines going to `write`. */
function runtime(env: Record<string, string> = {}, write: (line: string) => void = () => {}): Runtime {
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, '# everything from the environment\n');
  return {
    env: {
      DROVER_AGENT_CONFIG: config,
      DROVER_AGENT_STAGE: 'prod',
      DROVER_AGENT_REPLIES_QUEUE_URL: 'http://127.0.0.1:1/000000000000/drover-prod-replies',
      DROVER_AGENT_PUBLIC_KEY: publicKeyFile(),
      DROVER_AGENT_STATE_DIR: join(dir, 'state'),
      ...env,
    },
    dmiDir: dmi,
    fetch,
    write,
  };
}

async function prepared(rt: Runtime) {
  const agents = await prepareAgents({}, rt);
  agents.sqs.destroy();
  return agents;
}

describe('the identity prepareAgents gives the agent', () => {
  it('is the instance id on EC2, with EC2 facts and the instance region', async () => {
    dmiFiles({ sys_vendor: 'Amazon EC2' });
    imds = await startFakeImds();

    const { settings } = await prepared(runtime({ DROVER_AGENT_METADATA_ENDPOINT: imds.url }));

    expect(settings[0]).toMatchObject({ nodeId: 'i-0123456789abcdef0', identity: hostname() });
    expect(settings[0]!.baseFacts).toMatchObject({
      az: 'eu-west-1b',
      asg: 'web-asg',
      ec2: { ami_id: 'ami-0abcdef1234567890' },
    });
  });

  it('is the hostname off EC2, and the metadata service is never asked', async () => {
    dmiFiles({ sys_vendor: 'Dell Inc.' });
    imds = await startFakeImds();

    const { settings } = await prepared(
      runtime({ DROVER_AGENT_METADATA_ENDPOINT: imds.url, DROVER_AGENT_REGION: 'us-east-1' }),
    );

    expect(settings[0]).toMatchObject({ nodeId: hostname(), identity: hostname(), baseFacts: {} });
    expect(imds.requests).toEqual([]);
  });

  it('asks the metadata service off EC2 only when told to (ec2: always)', async () => {
    imds = await startFakeImds();

    const { settings } = await prepared(
      runtime({ DROVER_AGENT_METADATA_ENDPOINT: imds.url, DROVER_AGENT_EC2: 'always' }),
    );

    expect(settings[0]!.nodeId).toBe('i-0123456789abcdef0');
  });

  it('keeps a configured identity over the detected one, and a node id that is the instance id', async () => {
    dmiFiles({ board_asset_tag: 'i-0123456789abcdef0' });
    imds = await startFakeImds();

    const { settings } = await prepared(
      runtime({
        DROVER_AGENT_METADATA_ENDPOINT: imds.url,
        DROVER_AGENT_NODE_ID: 'i-0123456789abcdef0',
        DROVER_AGENT_IDENTITY: 'web-7.example.com',
      }),
    );

    expect(settings[0]).toMatchObject({ nodeId: 'i-0123456789abcdef0', identity: 'web-7.example.com' });
  });

  it('refuses to start on EC2 with a node id that is not the instance id, saying why', async () => {
    dmiFiles({ board_asset_tag: 'i-0123456789abcdef0' });
    imds = await startFakeImds();

    const start = prepared(
      runtime({ DROVER_AGENT_METADATA_ENDPOINT: imds.url, DROVER_AGENT_NODE_ID: 'web-7' }),
    );

    await expect(start).rejects.toThrow(AgentConfigError);
    await expect(start).rejects.toThrow(
      `config key "node_id": "web-7" is not this instance's id (i-0123456789abcdef0)`,
    );
  });

  it("tags the inbox with the instance ARN, in the replies queue's account", async () => {
    dmiFiles({ sys_vendor: 'Amazon EC2' });
    imds = await startFakeImds();

    const { settings } = await prepared(
      runtime({
        DROVER_AGENT_METADATA_ENDPOINT: imds.url,
        DROVER_AGENT_REPLIES_QUEUE_URL:
          'https://sqs.eu-west-1.amazonaws.com/123456789012/drover-prod-replies',
      }),
    );

    expect(settings[0]!.instanceArn).toBe('arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0');
  });

  it('refuses to start on EC2 when the metadata service is unreachable and DMI has no instance id', async () => {
    dmiFiles({ sys_vendor: 'Amazon EC2' });
    imds = await startFakeImds();
    const url = imds.url;
    await imds.close();
    imds = undefined;

    await expect(prepared(runtime({ DROVER_AGENT_METADATA_ENDPOINT: url }))).rejects.toThrow(
      AgentConfigError,
    );
  });

  it('falls back to the DMI instance id, without EC2 facts, when metadata is unreachable', async () => {
    dmiFiles({ board_asset_tag: 'i-0fedcba9876543210' });

    const { settings } = await prepared(
      runtime({ DROVER_AGENT_METADATA_ENDPOINT: 'http://127.0.0.1:9', DROVER_AGENT_REGION: 'us-east-1' }),
    );

    expect(settings[0]!.nodeId).toBe('i-0fedcba9876543210');
  });
});

describe('what prepareAgents warns about', () => {
  it('an output cap above what a result carries: output beyond it is cut to fit', async () => {
    const lines: string[] = [];

    await prepared(
      runtime({ DROVER_AGENT_REGION: 'us-east-1', DROVER_AGENT_OUTPUT_CAP_BYTES: '1000000' }, (line) =>
        lines.push(line),
      ),
    );

    const warnings = lines
      .map((l) => JSON.parse(l) as { level: string; message: string })
      .filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(
      'output_cap_bytes is 1000000, but a result carries at most 245760 bytes',
    );
  });

  it('nothing with the default cap', async () => {
    const lines: string[] = [];

    await prepared(runtime({ DROVER_AGENT_REGION: 'us-east-1' }, (line) => lines.push(line)));

    expect(lines.filter((l) => l.includes('"level":"warn"'))).toEqual([]);
  });
});
