/**
 * `sls package` works offline, and the CloudFormation it produces keeps drover's promises: the
 * local runtime's functions on nodejs22.x/arm64, each with a role granting exactly the calls its
 * code makes, only dispatch able to sign, an agent policy confined to its own stage's inboxes,
 * an operator policy that cannot send or sign, replies that end in a DLQ, tables with TTL and
 * PITR, and the run state machine wired to the functions its ASL names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_PLANE_FUNCTIONS, placeholderFor, type FunctionName } from '#local/functions.ts';
import {
  actionMatches,
  allStates,
  asList,
  conditionHolds,
  describeRef,
  grants,
  identityStatements,
  lambdaLogicalId,
  managedPolicyStatements,
  resource,
  resourcesOfType,
  roleStatements,
  type CfnTemplate,
  type PolicyStatement,
} from '../helpers/cloudformation.ts';
import { packageService, REPO_ROOT, type PackagedService } from '../helpers/sls-package.ts';
import { RESULTS_INDEX } from '#shared/runs-table.ts';
import { iamAllows } from '../helpers/iam-eval.ts';
import { REFUSED_SENDER_LOG } from '#functions/run/ingest-replies.ts';
import { STACK_ALARMS } from '#cli/cost/model.ts';
import { RUN_ERROR_LOG } from '#shared/run-errors.ts';

const STAGE = 'ci';
const FUNCTION_NAMES = Object.keys(CONTROL_PLANE_FUNCTIONS) as FunctionName[];
const capitalised = (name: string) => `${name.charAt(0).toUpperCase()}${name.slice(1)}`;
const roleOf = (name: FunctionName) => `${capitalised(name)}Role`;
const STATE_MACHINES = readdirSync(join(REPO_ROOT, 'state-machines'))
  .filter((file) => file.endsWith('.asl.json'))
  .map((file) => file.slice(0, -'.asl.json'.length));
/** The one function that signs requests (run requests, and cancel requests for the cancel state machine). */
const SIGNERS: FunctionName[] = ['dispatch'];

const INBOXES = `arn:\${AWS::Partition}:sqs:\${AWS::Region}:\${AWS::AccountId}:drover-${STAGE}-node-*`;
const executionsOf = (machine: string) =>
  `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:drover-${STAGE}-${machine}:*`;
/** The reaction state machine, by name: it invokes react, whose role and environment name it. */
const REACTION_MACHINE = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:drover-${STAGE}-reaction`;
const STAGE_SCHEDULES = `arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/drover-${STAGE}/*`;
const GROUPS =
  'arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/*';
const THIS_STACK =
  'arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${AWS::StackName}/*';

/** `"<action> on <resource>"` for each action. */
const on = (resourceRef: string, ...actions: string[]) =>
  actions.map((action) => `${action} on ${resourceRef}`);
const logs = (name: FunctionName) =>
  on(`${capitalised(name)}LogGroup.Arn`, 'logs:CreateLogStream', 'logs:PutLogEvents');

/** What each function's code calls (functions/run/*, shared/stores/), and nothing more. */
const FUNCTION_GRANTS: Record<FunctionName, string[]> = {
  plan: [
    ...logs('plan'),
    ...on('NodesTable.Arn', 'dynamodb:Scan'),
    ...on('RunsTable.Arn', 'dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'),
  ],
  dispatch: [
    ...logs('dispatch'),
    ...on('RunsTable.Arn', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'),
    ...on(INBOXES, 'sqs:SendMessage'),
    ...on('SigningKey.Arn', 'kms:Sign'),
    ...on('*', 'states:SendTaskSuccess'),
  ],
  awaitReplies: [
    ...logs('awaitReplies'),
    ...on('RunsTable.Arn', 'dynamodb:UpdateItem'),
    ...on('*', 'states:SendTaskSuccess'),
  ],
  closeBatch: [
    ...logs('closeBatch'),
    ...on('RunsTable.Arn', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'),
    // The replies backlog (functions/run/replies-backlog.ts), read before giving up on hosts.
    ...on('RepliesQueue.Arn', 'sqs:GetQueueAttributes'),
  ],
  finish: [
    ...logs('finish'),
    ...on('RunsTable.Arn', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'),
    ...on('EventBus.Arn', 'events:PutEvents'),
  ],
  ingest: [
    ...logs('ingest'),
    ...on('RepliesQueue.Arn', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'),
    ...on('NodesTable.Arn', 'dynamodb:UpdateItem'),
    ...on('RunsTable.Arn', 'dynamodb:GetItem', 'dynamodb:UpdateItem'),
    ...on('*', 'states:SendTaskSuccess'),
    ...on('EventBus.Arn', 'events:PutEvents'),
    ...on('LifecycleTable.Arn', 'dynamodb:DeleteItem'),
  ],
  cancelRun: [
    ...logs('cancelRun'),
    ...on('RunsTable.Arn', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem'),
    ...on('*', 'states:SendTaskSuccess'),
  ],
  reaper: [
    ...logs('reaper'),
    ...on('NodesTable.Arn', 'dynamodb:Scan', 'dynamodb:UpdateItem'),
    ...on('EventBus.Arn', 'events:PutEvents'),
  ],
  instanceState: [
    ...logs('instanceState'),
    ...on('NodesTable.Arn', 'dynamodb:UpdateItem'),
    ...on(INBOXES, 'sqs:DeleteQueue'),
    ...on('EventBus.Arn', 'events:PutEvents'),
  ],
  recordEvent: [...logs('recordEvent'), ...on('EventsTable.Arn', 'dynamodb:PutItem')],
  lifecycle: [
    ...logs('lifecycle'),
    ...on(
      'LifecycleTable.Arn',
      'dynamodb:GetItem',
      'dynamodb:Scan',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ),
    ...on('NodesTable.Arn', 'dynamodb:GetItem', 'dynamodb:Scan', 'dynamodb:UpdateItem'),
    ...on('RunsTable.Arn', 'dynamodb:GetItem'),
    ...on('RunStateMachine', 'states:StartExecution'),
    ...on(executionsOf('run'), 'states:DescribeExecution'),
    ...on(GROUPS, 'autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'),
    ...on(INBOXES, 'sqs:DeleteQueue'),
    ...on('EventBus.Arn', 'events:PutEvents'),
  ],
  lifecycleWait: [
    ...logs('lifecycleWait'),
    ...on('LifecycleTable.Arn', 'dynamodb:PutItem', 'dynamodb:DeleteItem'),
    ...on('NodesTable.Arn', 'dynamodb:GetItem'),
    ...on('RunStateMachine', 'states:StartExecution'),
    ...on(executionsOf('run'), 'states:DescribeExecution'),
    ...on('*', 'states:SendTaskSuccess'),
  ],
  lifecycleRunDone: [
    ...logs('lifecycleRunDone'),
    ...on('LifecycleTable.Arn', 'dynamodb:DeleteItem'),
    ...on('*', 'states:SendTaskSuccess'),
  ],
  react: [
    ...logs('react'),
    ...on('LifecycleTable.Arn', 'dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem'),
    ...on('NodesTable.Arn', 'dynamodb:GetItem'),
    ...on('RunStateMachine', 'states:StartExecution'),
    ...on(REACTION_MACHINE, 'states:StartExecution'),
    ...on('EventBus.Arn', 'events:PutEvents'),
  ],
};

const AGENT_INBOX_ACTIONS = [
  'sqs:CreateQueue',
  'sqs:TagQueue',
  'sqs:GetQueueUrl',
  'sqs:GetQueueAttributes',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
];

const allows = (statements: readonly PolicyStatement[], action: string) =>
  statements.some((s) => s.Effect === 'Allow' && asList(s.Action).some((a) => actionMatches(a, action)));

describe(`sls package --stage ${STAGE}`, () => {
  let packaged: PackagedService | undefined;
  let template: CfnTemplate;

  beforeAll(async () => {
    packaged = await packageService(STAGE);
    template = packaged.template;
    console.info(`sls package --stage ${STAGE} took ${(packaged.durationMs / 1000).toFixed(1)} s`);
  }, 240_000);

  afterAll(() => packaged?.remove());

  it('needs no network', () => {
    expect(packaged?.networkAttempts).toEqual([]);
  });

  it('names only resources it declares in every Ref and Fn::GetAtt (CloudFormation refuses the template otherwise)', () => {
    const declared = new Set([
      ...Object.keys(template.Resources),
      ...Object.keys((template as { Parameters?: Record<string, unknown> }).Parameters ?? {}),
    ]);
    const unresolved = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(walk);
      if (value === null || typeof value !== 'object') return;
      const node = value as Record<string, unknown>;
      if (typeof node.Ref === 'string' && !node.Ref.startsWith('AWS::') && !declared.has(node.Ref))
        unresolved.add(node.Ref);
      const getAtt = node['Fn::GetAtt'];
      const target = Array.isArray(getAtt)
        ? getAtt[0]
        : typeof getAtt === 'string'
          ? getAtt.split('.')[0]
          : undefined;
      if (typeof target === 'string' && !declared.has(target)) unresolved.add(target);
      Object.values(node).forEach(walk);
    };
    walk(template.Resources);
    walk(template.Outputs);
    expect([...unresolved].sort()).toEqual([]);
  });

  it("has the alarms drover cost prices (its model counts the stack's alarms)", () => {
    expect(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).toHaveLength(STACK_ALARMS);
  });

  it('leaves nothing in the temp dir', () => {
    // serverless-esbuild stages each zip in a directory under TMPDIR and removed it without
    // `recursive`, so every function left one behind on every package or deploy (patched).
    expect(packaged?.tempLeftovers).toEqual([]);
  });

  it('builds one artifact per function', () => {
    expect(packaged?.artifacts.sort()).toEqual(FUNCTION_NAMES.map((name) => `${name}.zip`).sort());
  });

  describe('functions', () => {
    it.each(FUNCTION_NAMES)('%s runs its handler on nodejs22.x, arm64', (name) => {
      expect(resource(template, lambdaLogicalId(name)).Properties).toMatchObject({
        FunctionName: `drover-${STAGE}-${name}`,
        Handler: CONTROL_PLANE_FUNCTIONS[name],
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': [roleOf(name), 'Arn'] },
      });
    });

    it('are the only functions', () => {
      expect(
        resourcesOfType(template, 'AWS::Lambda::Function')
          .map(([id]) => id)
          .sort(),
      ).toEqual(FUNCTION_NAMES.map(lambdaLogicalId).sort());
    });

    it.each(FUNCTION_NAMES)('%s gets the stage configuration', (name) => {
      const variables = (
        resource(template, lambdaLogicalId(name)).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      expect(variables).toMatchObject({
        DROVER_STAGE: STAGE,
        DROVER_NODES_TABLE: { Ref: 'NodesTable' },
        DROVER_RUNS_TABLE: { Ref: 'RunsTable' },
        DROVER_REPLIES_QUEUE_URL: { Ref: 'RepliesQueue' },
      });
      expect(Number(variables.DROVER_RETENTION_DAYS)).toBeGreaterThan(0);
      expect(variables.DROVER_SIGNING_KEY).toEqual(
        SIGNERS.includes(name) ? { 'Fn::GetAtt': ['SigningKey', 'Arn'] } : undefined,
      );
      expect(variables.DROVER_EVENT_BUS).toEqual(
        ['finish', 'ingest', 'reaper', 'instanceState', 'lifecycle', 'lifecycleWait', 'react'].includes(name)
          ? { Ref: 'EventBus' }
          : undefined,
      );
    });

    it('react names the reaction state machine by its deployed name (a Ref would be a cycle: it invokes react)', () => {
      const variables = (
        resource(template, lambdaLogicalId('react')).Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      expect(variables.DROVER_REACTION_STATE_MACHINE).toEqual({ 'Fn::Sub': REACTION_MACHINE });
      expect(resource(template, 'ReactionStateMachine').Properties.StateMachineName).toBe(
        `drover-${STAGE}-reaction`,
      );
      expect(REACTION_MACHINE.endsWith(`:stateMachine:drover-${STAGE}-reaction`)).toBe(true);
    });

    it('log to groups with a retention period', () => {
      const groups = resourcesOfType(template, 'AWS::Logs::LogGroup').map(([, group]) => group.Properties);
      for (const group of groups) expect(group.RetentionInDays).toBeGreaterThan(0);
      expect(groups.map((group) => group.LogGroupName).sort()).toEqual(
        FUNCTION_NAMES.map((name) => `/aws/lambda/drover-${STAGE}-${name}`).sort(),
      );
    });
  });

  describe('function roles', () => {
    it.each(FUNCTION_NAMES)('the %s role grants exactly what its code calls', (name) => {
      const role = resource(template, roleOf(name));
      const statements = roleStatements(template, roleOf(name));
      expect(grants(statements)).toEqual([...FUNCTION_GRANTS[name]].sort());
      for (const statement of statements) {
        expect(statement).not.toHaveProperty('NotAction');
        expect(statement).not.toHaveProperty('NotResource');
      }
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      });
    });

    it('are each used by one function', () => {
      const roles = resourcesOfType(template, 'AWS::Lambda::Function').map(([, fn]) =>
        describeRef(fn.Properties.Role),
      );
      expect(new Set(roles).size).toBe(FUNCTION_NAMES.length);
    });

    it("use Resource '*' only for SendTaskSuccess, ListSchedules, DescribeAutoScalingGroups and DescribeLifecycleHooks, which have no resource-level permissions", () => {
      const everything = identityStatements(template)
        .filter(({ statement }) => asList(statement.Resource).includes('*'))
        .flatMap(({ statement }) => asList(statement.Action));
      expect(new Set(everything)).toEqual(
        new Set([
          'states:SendTaskSuccess',
          'scheduler:ListSchedules',
          'autoscaling:DescribeAutoScalingGroups',
          'autoscaling:DescribeLifecycleHooks',
        ]),
      );
    });

    it('use no wildcard actions', () => {
      const actions = identityStatements(template).flatMap(({ statement }) => asList(statement.Action));
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    });
  });

  describe('signing', () => {
    it('uses an ECC P-256 signing key with a stage alias', () => {
      expect(resource(template, 'SigningKey').Properties).toMatchObject({
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
      });
      expect(resource(template, 'SigningKeyAlias').Properties).toEqual({
        AliasName: `alias/drover-${STAGE}-signing`,
        TargetKeyId: { Ref: 'SigningKey' },
      });
    });

    it('lets only the dispatch role sign', () => {
      const signers = identityStatements(template)
        .filter(({ statement }) => allows([statement], 'kms:Sign'))
        .map(({ owner }) => owner);
      expect(signers.sort()).toEqual(SIGNERS.map(roleOf).sort());
    });

    it('denies signing in the key policy to every principal but those roles', () => {
      const keyPolicy = resource(template, 'SigningKey').Properties.KeyPolicy as {
        Statement: PolicyStatement[];
      };
      const deny = keyPolicy.Statement.find(
        (s) => s.Effect === 'Deny' && asList(s.Action).includes('kms:Sign'),
      );
      expect(deny?.Principal).toEqual({ AWS: '*' });
      const exempt = (deny?.Condition as { ArnNotEquals: Record<string, unknown> } | undefined)?.ArnNotEquals[
        'aws:PrincipalArn'
      ];
      // The key policy names the roles (a reference would be a cycle): the names must agree.
      const signerRoleArns = SIGNERS.map((name) => {
        const roleName = describeRef(resource(template, roleOf(name)).Properties.RoleName);
        expect(roleName).toBe(`drover-${STAGE}-\${AWS::Region}-${name}`);
        return `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${roleName}`;
      });
      expect(asList(exempt).map(describeRef).sort()).toEqual(signerRoleArns.sort());
      // The only Allow is the account's, which defers to IAM policies (checked above).
      expect(keyPolicy.Statement.filter((s) => s.Effect === 'Allow').map((s) => s.Principal)).toEqual([
        { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
      ]);
    });
  });

  describe('agent policy', () => {
    const agent = () => managedPolicyStatements(template, 'AgentPolicy');

    it(`manages and reads only drover-${STAGE}-node-* inboxes`, () => {
      const inboxGrants = grants(agent()).filter((grant) => !grant.startsWith('sqs:SendMessage '));
      expect(inboxGrants.filter((grant) => grant.startsWith('sqs:'))).toEqual(
        on(INBOXES, ...AGENT_INBOX_ACTIONS).sort(),
      );
    });

    it('sends only to the replies queue', () => {
      expect(grants(agent()).filter((grant) => grant.startsWith('sqs:SendMessage '))).toEqual(
        on('RepliesQueue.Arn', 'sqs:SendMessage'),
      );
    });

    it("reads only the signing key's public key", () => {
      expect(grants(agent()).filter((grant) => grant.startsWith('kms:'))).toEqual(
        on('SigningKey.Arn', 'kms:GetPublicKey'),
      );
    });

    it('allows nothing else', () => {
      expect(grants(agent())).toEqual(
        [
          ...on(INBOXES, ...AGENT_INBOX_ACTIONS),
          ...on('RepliesQueue.Arn', 'sqs:SendMessage'),
          ...on('SigningKey.Arn', 'kms:GetPublicKey'),
          ...on(
            `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/drover/${STAGE}/agent`,
            'ssm:GetParameter',
          ),
        ].sort(),
      );
      expect(agent().every((s) => s.Effect === 'Allow')).toBe(true);
    });

    describe('reaches only its own inbox (attribute-based, docs/security.md)', () => {
      const pseudo = { partition: 'aws', region: 'us-east-1', accountId: '123456789012' };
      const arnOf = (id: string) => `arn:aws:ec2:us-east-1:123456789012:instance/${id}`;
      const queue = (id: string) => `arn:aws:sqs:us-east-1:123456789012:drover-${STAGE}-node-${id}`;
      /** A call with instance i-0aaa's role credentials (or, without an instance, someone else's). */
      const call = (
        action: string,
        on: string,
        context: Record<string, string | string[] | undefined> = {},
      ) =>
        iamAllows(
          agent(),
          { action, resource: on, context: { 'ec2:SourceInstanceARN': arnOf('i-0aaa'), ...context } },
          pseudo,
        );
      const own = { 'aws:ResourceTag/drover:instance': arnOf('i-0aaa') };
      const other = { 'aws:ResourceTag/drover:instance': arnOf('i-0bbb') };
      const createTags = (instance: string) => ({
        'aws:RequestTag/drover:instance': arnOf(instance),
        'aws:TagKeys': ['drover:stage', 'drover:node', 'drover:instance'],
      });

      it('receives, deletes and reads attributes of the inbox tagged with its instance ARN', () => {
        for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
          expect(call(action, queue('i-0aaa'), own)).toBe(true);
        }
      });

      it("cannot receive from or delete on another host's inbox, or an untagged one", () => {
        for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
          expect(call(action, queue('i-0bbb'), other)).toBe(false);
          expect(call(action, queue('i-0bbb'))).toBe(false);
        }
      });

      it('creates an inbox only tagged with its own instance ARN, and only with drover tags', () => {
        expect(call('sqs:CreateQueue', queue('i-0aaa'), createTags('i-0aaa'))).toBe(true);
        expect(call('sqs:TagQueue', queue('i-0aaa'), createTags('i-0aaa'))).toBe(true);
        expect(call('sqs:CreateQueue', queue('i-0bbb'), createTags('i-0bbb'))).toBe(false);
        expect(call('sqs:CreateQueue', queue('i-0aaa'), { 'aws:TagKeys': ['drover:stage'] })).toBe(false);
        expect(
          call('sqs:CreateQueue', queue('i-0aaa'), {
            ...createTags('i-0aaa'),
            'aws:TagKeys': ['drover:stage', 'drover:node', 'drover:instance', 'owner'],
          }),
        ).toBe(false);
      });

      it('tags an untagged (older) inbox as its own, once', () => {
        expect(call('sqs:TagQueue', queue('i-0aaa'), createTags('i-0aaa'))).toBe(true);
      });

      it("cannot re-tag another host's inbox as its own", () => {
        expect(call('sqs:TagQueue', queue('i-0bbb'), { ...createTags('i-0aaa'), ...other })).toBe(false);
      });

      it('gives nothing on inboxes to credentials that are not an instance role', () => {
        const offEc2 = { 'ec2:SourceInstanceARN': undefined };
        expect(call('sqs:ReceiveMessage', queue('web-1'), { ...offEc2, ...own })).toBe(false);
        expect(call('sqs:CreateQueue', queue('web-1'), { ...offEc2, ...createTags('i-0aaa') })).toBe(false);
      });

      it('cannot change a queue policy or tags otherwise', () => {
        for (const action of [
          'sqs:SetQueueAttributes',
          'sqs:UntagQueue',
          'sqs:AddPermission',
          'sqs:DeleteQueue',
        ]) {
          expect(call(action, queue('i-0aaa'), own)).toBe(false);
        }
      });
    });
  });

  describe('operator policy', () => {
    const operator = () => managedPolicyStatements(template, 'OperatorPolicy');

    it('starts, follows and cancels runs, reads the tables and finds the stack: what the CLI calls', () => {
      expect(grants(operator())).toEqual(
        [
          ...['RunStateMachine', 'CancelStateMachine'].flatMap((machine) =>
            on(machine, 'states:StartExecution', 'states:ListExecutions'),
          ),
          ...['run', 'cancel'].flatMap((machine) => on(executionsOf(machine), 'states:DescribeExecution')),
          ...['NodesTable.Arn', 'RunsTable.Arn'].flatMap((table) =>
            on(table, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'),
          ),
          ...on('RunsTable.Arn/index/byResult', 'dynamodb:Query'),
          ...on('EventsTable.Arn', 'dynamodb:Query'),
          ...on(
            'LifecycleTable.Arn',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:DeleteItem',
            'dynamodb:Scan',
          ),
          ...on('*', 'autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLifecycleHooks'),
          ...on(
            'arn:${AWS::Partition}:autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/*',
            'autoscaling:PutLifecycleHook',
            'autoscaling:DeleteLifecycleHook',
          ),
          ...on(THIS_STACK, 'cloudformation:DescribeStacks'),
          ...on(
            STAGE_SCHEDULES,
            'scheduler:CreateSchedule',
            'scheduler:GetSchedule',
            'scheduler:UpdateSchedule',
            'scheduler:DeleteSchedule',
          ),
          ...on('*', 'scheduler:ListSchedules'),
          ...on('SchedulerRole.Arn', 'iam:PassRole'),
        ].sort(),
      );
    });

    it('passes the scheduler role to EventBridge Scheduler only', () => {
      const pass = operator().find((s) => asList(s.Action).includes('iam:PassRole'));
      expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    });

    it('can neither send to a queue nor sign, nor stop an execution (a stopped run never finishes)', () => {
      expect(allows(operator(), 'sqs:SendMessage')).toBe(false);
      expect(allows(operator(), 'kms:Sign')).toBe(false);
      expect(allows(operator(), 'states:StopExecution')).toBe(false);
    });

    it('has a read-only sibling for find, facts, inventory, runs, show, events and lifecycle list|show', () => {
      expect(grants(managedPolicyStatements(template, 'OperatorReadOnlyPolicy'))).toEqual(
        [
          ...on('RunStateMachine', 'states:ListExecutions'),
          ...on(executionsOf('run'), 'states:DescribeExecution'),
          ...['NodesTable.Arn', 'RunsTable.Arn'].flatMap((table) =>
            on(table, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'),
          ),
          ...on(`RunsTable.Arn/index/${RESULTS_INDEX}`, 'dynamodb:Query'),
          ...on('EventsTable.Arn', 'dynamodb:Query'),
          ...on('LifecycleTable.Arn', 'dynamodb:GetItem', 'dynamodb:Scan'),
          ...on(THIS_STACK, 'cloudformation:DescribeStacks'),
        ].sort(),
      );
    });
  });

  describe('schedules', () => {
    it("have the stage's own schedule group", () => {
      expect(resource(template, 'ScheduleGroup')).toMatchObject({
        Type: 'AWS::Scheduler::ScheduleGroup',
        Properties: { Name: `drover-${STAGE}` },
      });
    });

    it("run as a role that may start the stage's run state machine and nothing else", () => {
      expect(grants(roleStatements(template, 'SchedulerRole'))).toEqual(
        on('RunStateMachine', 'states:StartExecution'),
      );
    });

    it("can be assumed only by EventBridge Scheduler, for this account's schedules of the stage's group", () => {
      const trust = (
        resource(template, 'SchedulerRole').Properties.AssumeRolePolicyDocument as {
          Statement: PolicyStatement[];
        }
      ).Statement;
      expect(trust).toHaveLength(1);
      expect(trust[0]).toMatchObject({
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Sub': STAGE_SCHEDULES } },
        },
      });
    });
  });

  describe('stage isolation', () => {
    it(`names only drover-${STAGE} resources`, () => {
      const text = JSON.stringify(template);
      // `drover-<stage>…` at the start of a name or ARN segment (not `ci-drover-statemachine`).
      const stages = [...text.matchAll(/(?<![\w-])drover-([a-z0-9]+)/g)].map((m) => m[1]);
      expect(stages.length).toBeGreaterThan(20);
      expect(new Set(stages)).toEqual(new Set([STAGE]));
    });

    it("refuses a stage whose queues another stage's inbox pattern (drover-ci-node-*) would cover", async () => {
      await expect(packageService('ci-node-x')).rejects.toThrow(
        'Error: stage "ci-node-x" cannot be used: no "-node" segment after the first: drover-<stage>-node-* names the inboxes of a stage',
      );
    }, 120_000);
  });

  describe('replies', () => {
    it('feed ingest in batches of 10 with partial batch failures', () => {
      const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping');
      expect(mappings).toHaveLength(1);
      expect(mappings[0]![1].Properties).toMatchObject({
        FunctionName: { 'Fn::GetAtt': ['IngestLambdaFunction', 'Arn'] },
        EventSourceArn: { 'Fn::GetAtt': ['RepliesQueue', 'Arn'] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it('go to the dead-letter queue after 5 receives', () => {
      expect(resource(template, 'RepliesQueue').Properties).toMatchObject({
        QueueName: `drover-${STAGE}-replies`,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': ['RepliesDeadLetterQueue', 'Arn'] },
          maxReceiveCount: 5,
        },
      });
      expect(resource(template, 'RepliesDeadLetterQueue').Properties.QueueName).toBe(
        `drover-${STAGE}-replies-dlq`,
      );
    });

    it('are at most 256 KiB each, as the local stack declares them', () => {
      for (const id of ['RepliesQueue', 'RepliesDeadLetterQueue']) {
        expect(resource(template, id).Properties.MaximumMessageSize).toBe(262_144);
      }
    });

    it('stay invisible for six ingest timeouts while a batch is processed', () => {
      const ingestTimeout = resource(template, 'IngestLambdaFunction').Properties.Timeout as number;
      expect(resource(template, 'RepliesQueue').Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        6 * ingestTimeout,
      );
    });

    it("admit senders tagged as this stage's agents only (drover:agent), whatever IAM allows", () => {
      expect(resource(template, 'RepliesQueuePolicy').Properties).toEqual({
        Queues: [{ Ref: 'RepliesQueue' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'OnlyAgentsSendReplies',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sqs:SendMessage',
              Resource: { 'Fn::GetAtt': ['RepliesQueue', 'Arn'] },
              Condition: { StringNotEquals: { 'aws:PrincipalTag/drover:agent': STAGE } },
            },
          ],
        },
      });
    });

    it('are checked against their sender, with bindings for off-EC2 agents from the deploy environment', () => {
      const env = resource(template, 'IngestLambdaFunction').Properties.Environment as {
        Variables: Record<string, unknown>;
      };
      expect(env.Variables.DROVER_SENDER_BINDINGS).toBe('');
      expect(env.Variables.DROVER_VERIFY_SENDER).toBeUndefined();
    });

    it.each(['RepliesQueue', 'RepliesDeadLetterQueue'])('%s is encrypted at rest', (queue) => {
      expect(resource(template, queue).Properties.SqsManagedSseEnabled).toBe(true);
    });
  });

  describe('data kept by sls remove', () => {
    it.each(['NodesTable', 'RunsTable', 'SigningKey'])(
      '%s is retained on removal and on replacement',
      (id) => {
        expect(template.Resources[id]).toMatchObject({
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
        });
      },
    );

    it.each(['NodesTable', 'RunsTable'])('%s has deletion protection', (id) => {
      expect(resource(template, id).Properties.DeletionProtectionEnabled).toBe(true);
    });
  });

  describe('tables', () => {
    it.each([
      ['NodesTable', 'nodes', [{ AttributeName: 'nodeId', KeyType: 'HASH' }]],
      [
        'RunsTable',
        'runs',
        [
          { AttributeName: 'runId', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      ],
      [
        'LifecycleTable',
        'lifecycle',
        [
          { AttributeName: 'asg', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      ],
    ])('%s is on-demand, encrypted, with PITR and TTL on expiresAt', (id, suffix, keySchema) => {
      expect(resource(template, id).Properties).toMatchObject({
        TableName: `drover-${STAGE}-${suffix}`,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: keySchema,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    });

    it('indexes node items of the runs table by when their result landed, keys only (the watchers read it)', () => {
      const properties = resource(template, 'RunsTable').Properties as {
        AttributeDefinitions: unknown[];
        GlobalSecondaryIndexes: unknown[];
      };
      expect(properties.AttributeDefinitions).toContainEqual({
        AttributeName: 'resultAt',
        AttributeType: 'N',
      });
      expect(properties.GlobalSecondaryIndexes).toEqual([
        {
          IndexName: RESULTS_INDEX,
          KeySchema: [
            { AttributeName: 'runId', KeyType: 'HASH' },
            { AttributeName: 'resultAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
          // Warmed only with the runsWarmWrites param (large-fleet.test.ts): no property by default.
          WarmThroughput: { Ref: 'AWS::NoValue' },
        },
      ]);
    });
  });

  describe.each(STATE_MACHINES)('the %s state machine', (name) => {
    const logicalId = `${capitalised(name)}StateMachine`;
    const asl = JSON.parse(
      readFileSync(join(REPO_ROOT, `state-machines/${name}.asl.json`), 'utf8'),
    ) as unknown;
    const placeholderOf = new Map(
      FUNCTION_NAMES.map((fn) => [`${lambdaLogicalId(fn)}.Arn`, placeholderFor(fn)]),
    );
    const logicalIdOf = new Map(FUNCTION_NAMES.map((fn) => [placeholderFor(fn), lambdaLogicalId(fn)]));
    /** The logical ids of the functions the ASL file's Tasks invoke, in order. */
    const aslTargets = allStates(asl)
      .map((state) => (state.Parameters as { FunctionName?: string } | undefined)?.FunctionName)
      .filter((fn): fn is string => fn !== undefined)
      .map((placeholder) => logicalIdOf.get(placeholder));

    const definition = () => {
      const [body, variables] = (
        resource(template, logicalId).Properties.DefinitionString as {
          'Fn::Sub': [string, Record<string, unknown>];
        }
      )['Fn::Sub'];
      return { body, variables };
    };

    it(`is deployed as drover-${STAGE}-<name>, as local mode names it`, () => {
      expect(resource(template, logicalId).Properties.StateMachineName).toBe(`drover-${STAGE}-${name}`);
    });

    it('has no placeholder left for CloudFormation to miss', () => {
      const { body, variables } = definition();
      expect(body).not.toMatch(/FunctionArn\}/);
      for (const [, variable] of body.matchAll(/\$\{([^}]+)\}/g)) {
        expect(Object.keys(variables)).toContain(variable);
      }
    });

    it('invokes the functions its Tasks name, through Fn::GetAtt', () => {
      const { body, variables } = definition();
      const resolved: unknown = JSON.parse(
        body.replace(/\$\{([^}]+)\}/g, (_, variable: string) => describeRef(variables[variable])),
      );
      const targets = allStates(resolved)
        .map((state) => (state.Parameters as { FunctionName?: string } | undefined)?.FunctionName)
        .filter((fn): fn is string => fn !== undefined)
        .map((fn) => fn.replace(/\.Arn$/, ''));
      expect(targets.length).toBeGreaterThan(0);
      expect(targets).toEqual(aslTargets);
      for (const target of targets) expect(resource(template, target).Type).toBe('AWS::Lambda::Function');
    });

    it('is the ASL file local mode runs, function placeholders aside', () => {
      const { body, variables } = definition();
      const restored = body.replace(
        /\$\{([^}]+)\}/g,
        (whole, variable: string) => placeholderOf.get(describeRef(variables[variable])) ?? whole,
      );
      expect(JSON.parse(restored)).toEqual(asl);
    });

    it('may invoke exactly those functions', () => {
      const invoked = [...new Set(aslTargets)];
      expect(grants(roleStatements(template, `${logicalId}Role`))).toEqual(
        invoked
          .flatMap((id) => on(`${id}.Arn`, 'lambda:InvokeFunction'))
          .concat(invoked.flatMap((id) => on(`${id}.Arn:*`, 'lambda:InvokeFunction')))
          .sort(),
      );
    });
  });

  describe('alarms', () => {
    it('fire when the replies dead-letter queue is not empty', () => {
      expect(resource(template, 'RepliesDeadLetterAlarm').Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['RepliesDeadLetterQueue', 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
      });
    });

    it.each(['RepliesDeadLetterAlarm', 'RunExecutionsFailedAlarm'])(
      '%s notifies the stage topic when it fires and when it clears',
      (alarm) => {
        const actions = [{ Ref: 'AlarmTopic' }];
        expect(resource(template, alarm).Properties).toMatchObject({
          AlarmActions: actions,
          OKActions: actions,
        });
      },
    );

    it('have a topic of their own, mailed to nobody unless an address is given', () => {
      expect(resource(template, 'AlarmTopic').Properties).toMatchObject({
        TopicName: `drover-${STAGE}-alarms`,
      });
      expect(template.Resources.AlarmEmailSubscription?.Condition).toBe('AlarmEmailGiven');
      expect(conditionHolds(template, 'AlarmEmailGiven')).toBe(false);
    });

    it('fire when ingest refuses a reply for its sender or a heartbeat for its inbox', () => {
      const filter = resource(template, 'RefusedRepliesMetricFilter').Properties;
      expect(filter).toMatchObject({
        LogGroupName: { Ref: 'IngestLogGroup' },
        MetricTransformations: [
          { MetricNamespace: `drover/${STAGE}`, MetricName: 'RefusedReplies', MetricValue: '1' },
        ],
      });
      // The pattern's prefixes are those of the log lines ingest writes.
      expect(REFUSED_SENDER_LOG.startsWith('reply refused: ')).toBe(true);
      expect(filter.FilterPattern).toBe(
        '{ ($.message = "reply refused: *") || ($.message = "heartbeat refused: *") }',
      );
      expect(resource(template, 'RefusedRepliesAlarm').Properties).toMatchObject({
        Namespace: `drover/${STAGE}`,
        MetricName: 'RefusedReplies',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      });
    });

    it('fire when a step of a run fails, never for a run whose hosts failed (HostsFailed)', () => {
      const filter = resource(template, 'RunErrorsMetricFilter').Properties;
      expect(filter).toMatchObject({
        LogGroupName: { Ref: 'FinishLogGroup' },
        MetricTransformations: [
          { MetricNamespace: `drover/${STAGE}`, MetricName: 'RunErrors', MetricValue: '1' },
        ],
      });
      // The pattern matches the line the finish step logs on the FinishFailed path only.
      expect(RUN_ERROR_LOG.startsWith('run error: ')).toBe(true);
      expect(filter.FilterPattern).toBe('{ $.message = "run error: *" }');
      const alarm = resource(template, 'RunExecutionsFailedAlarm').Properties;
      expect(alarm).toMatchObject({
        Namespace: `drover/${STAGE}`,
        MetricName: 'RunErrors',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
      // Not AWS/States ExecutionsFailed: that counts every run with a failed host.
      expect(alarm.Dimensions).toBeUndefined();
      const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(alarms.map((a) => (a.Properties as { MetricName?: string }).MetricName)).not.toContain(
        'ExecutionsFailed',
      );
    });
  });

  describe('outputs', () => {
    it.each([
      'AgentPolicyArn',
      'OperatorPolicyArn',
      'OperatorReadOnlyPolicyArn',
      'RunStateMachineArn',
      'CancelStateMachineArn',
      'NodesTableName',
      'RunsTableName',
      'RepliesQueueUrl',
      'SigningKeyArn',
      'EventBusName',
      'EventsTableName',
      'LifecycleTableName',
      'AlarmTopicArn',
      'ScheduleGroupName',
      'SchedulerRoleArn',
      'Stage',
      'Region',
    ])('%s is exported under a stage-specific name', (key) => {
      expect(template.Outputs[key]?.Export?.Name).toBe(`drover-${STAGE}-${key}`);
    });
  });
});

describe(`sls package --stage ${STAGE} --param=alarmEmail=…`, () => {
  let packaged: PackagedService | undefined;

  beforeAll(async () => {
    packaged = await packageService(STAGE, ['--param=alarmEmail=oncall@example.com']);
  }, 240_000);

  afterAll(() => packaged?.remove());

  it('refuses a value that is not an address, before anything is built', async () => {
    await expect(packageService(STAGE, ['--param=alarmEmail=oncall-at-example'])).rejects.toThrow(
      'param alarmEmail "oncall-at-example" is not an email address',
    );
  }, 120_000);

  it('subscribes the address to the alarm topic by email', () => {
    const template = packaged!.template;
    expect(conditionHolds(template, 'AlarmEmailGiven')).toBe(true);
    expect(resource(template, 'AlarmEmailSubscription').Properties).toEqual({
      TopicArn: { Ref: 'AlarmTopic' },
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('serverless.yml', () => {
  it("explains every wildcard (Resource '*', a '*' principal, a wildcard action) in a comment on the line above", () => {
    const text = readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8');
    const lines = text.split('\n');
    const lineCounter = new LineCounter();
    const wildcards: { line: number; text: string }[] = [];
    visit(parseDocument(text, { lineCounter }), {
      Pair(_, pair) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        if (!['Resource', 'NotResource', 'Principal', 'AWS', 'Action', 'NotAction'].includes(key)) return;
        for (const item of isSeq(pair.value) ? pair.value.items : [pair.value]) {
          if (!isScalar(item) || typeof item.value !== 'string' || !item.range) continue;
          const wild = key.endsWith('Action') ? item.value.includes('*') : item.value === '*';
          if (!wild) continue;
          const line = lineCounter.linePos(item.range[0]).line;
          wildcards.push({ line, text: lines[line - 1]!.trim() });
        }
      },
    });

    expect(wildcards.length).toBeGreaterThan(0);
    const unexplained = wildcards.filter(({ line }) => !/^\s*#\s*\S/.test(lines[line - 2] ?? ''));
    expect(unexplained).toEqual([]);
  });
});

describe(`sls package --stage ${STAGE} --param=keepData=false (a throw-away stage)`, () => {
  let packaged: PackagedService | undefined;

  beforeAll(async () => {
    packaged = await packageService(STAGE, ['--param=keepData=false']);
  }, 240_000);

  afterAll(() => packaged?.remove());

  it.each(['NodesTable', 'RunsTable', 'SigningKey'])('lets sls remove delete %s', (id) => {
    expect(packaged!.template.Resources[id]).toMatchObject({
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
    });
  });

  it.each(['NodesTable', 'RunsTable'])('turns off the deletion protection of %s', (id) => {
    expect(resource(packaged!.template, id).Properties.DeletionProtectionEnabled).toBe(false);
  });
});

describe('deploy params refused before anything is built', () => {
  it('refuses a log retention CloudWatch Logs does not accept', async () => {
    await expect(packageService(STAGE, ['--param=logRetentionDays=45'])).rejects.toThrow(
      'param logRetentionDays "45" is not a retention CloudWatch Logs accepts',
    );
  }, 120_000);

  it('refuses a keepData that is neither true nor false', async () => {
    await expect(packageService(STAGE, ['--param=keepData=no'])).rejects.toThrow(
      'param keepData "no" is neither true nor false',
    );
  }, 120_000);
});
