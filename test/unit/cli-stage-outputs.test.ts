import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CliError } from '#cli/errors.ts';
import { describeStage, outputsFromStack, resolveStage, stageCachePath } from '#cli/stage-outputs.ts';
import { isMissingResource } from '#cli/stack.ts';

const OUTPUTS = {
  RunStateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:drover-prod-run',
  CancelStateMachineArn: 'arn:aws:states:eu-west-1:1:stateMachine:drover-prod-cancel',
  NodesTableName: 'drover-prod-nodes',
  RunsTableName: 'drover-prod-runs',
  RepliesQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/drover-prod-replies',
  SigningKeyArn: 'arn:aws:kms:eu-west-1:1:key/k',
  EventBusName: 'drover-prod',
  Region: 'eu-west-1',
  Stage: 'prod',
};
const stackOutputs = (outputs: Record<string, string> = OUTPUTS) =>
  Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));

function validationError(message: string): Error {
  return Object.assign(new Error(message), { name: 'ValidationError' });
}

let home: string;
const cfn = mockClient(CloudFormationClient);

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'drover-stage-unit-'));
  cfn.reset();
});

afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('outputsFromStack', () => {
  it('maps the stack outputs to what the CLI uses, with the region the stack reports', () => {
    expect(outputsFromStack('prod', 'drover-prod', 'us-east-1', stackOutputs())).toEqual({
      stage: 'prod',
      stackName: 'drover-prod',
      region: 'eu-west-1',
      runStateMachineArn: OUTPUTS.RunStateMachineArn,
      cancelStateMachineArn: OUTPUTS.CancelStateMachineArn,
      nodesTable: OUTPUTS.NodesTableName,
      runsTable: OUTPUTS.RunsTableName,
      repliesQueueUrl: OUTPUTS.RepliesQueueUrl,
      signingKeyArn: OUTPUTS.SigningKeyArn,
      eventBusName: OUTPUTS.EventBusName,
    });
  });

  it("maps the stage's schedule group and scheduler role when the stack has them", () => {
    const withSchedules = {
      ...OUTPUTS,
      ScheduleGroupName: 'drover-prod',
      SchedulerRoleArn: 'arn:aws:iam::1:role/drover-prod-eu-west-1-scheduler',
    };
    expect(outputsFromStack('prod', 'drover-prod', 'us-east-1', stackOutputs(withSchedules))).toMatchObject({
      scheduleGroupName: 'drover-prod',
      schedulerRoleArn: 'arn:aws:iam::1:role/drover-prod-eu-west-1-scheduler',
    });
  });

  it('names the first missing required output and how to fix it', () => {
    const { RunsTableName: _gone, ...rest } = OUTPUTS;

    expect(() => outputsFromStack('prod', 'drover-prod', 'us-east-1', stackOutputs(rest))).toThrow(
      'stack drover-prod has no output RunsTableName: it was not deployed by this version of drover (redeploy it with `npx sls deploy --stage prod`)',
    );
  });
});

describe('describeStage', () => {
  it('turns "does not exist" into an unknown stage, exit code 4', async () => {
    cfn.on(DescribeStacksCommand).rejects(validationError('Stack with id drover-nope does not exist'));

    const error = await describeStage(new CloudFormationClient({}), 'nope', 'us-east-1').catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(4);
    expect((error as CliError).message).toMatch(
      /^unknown stage "nope": there is no CloudFormation stack drover-nope in us-east-1/,
    );
  });

  it('says a stack still being created is not usable yet', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'drover-new', StackStatus: 'CREATE_IN_PROGRESS', CreationTime: new Date() }],
    });

    await expect(describeStage(new CloudFormationClient({}), 'new', 'us-east-1')).rejects.toThrow(
      'stage "new" is not usable yet: stack drover-new is CREATE_IN_PROGRESS',
    );
  });
});

describe('resolveStage', () => {
  const lookup = (overrides: Partial<Parameters<typeof resolveStage>[0]> = {}) => ({
    home,
    stage: 'prod',
    region: 'us-east-1',
    cfn: () => new CloudFormationClient({}),
    now: () => 1_000_000,
    ...overrides,
  });

  beforeEach(() => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'drover-prod',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: stackOutputs(),
        },
      ],
    });
  });

  it('reads the stack once and then answers from the cache while it is under an hour old', async () => {
    const first = await resolveStage(lookup());
    const second = await resolveStage(lookup({ now: () => 1_000_000 + 3_599_000 }));

    expect(first.fromCache).toBe(false);
    expect(second).toEqual({ outputs: first.outputs, fromCache: true });
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(1);
    expect(JSON.parse(readFileSync(stageCachePath(home, 'prod'), 'utf8'))).toMatchObject({
      fetchedAt: 1_000_000,
    });
  });

  it('re-reads the stack when the cache is over an hour old, on refresh, or when the cache is damaged', async () => {
    await resolveStage(lookup());
    await resolveStage(lookup({ now: () => 1_000_000 + 3_601_000 }));
    await resolveStage(lookup({ refresh: true }));
    writeFileSync(stageCachePath(home, 'prod'), '{not json');
    await resolveStage(lookup());

    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(4);
  });

  it('refuses a stage name that cannot be one before calling AWS', async () => {
    await expect(resolveStage(lookup({ stage: '../etc' }))).rejects.toThrow('"../etc" is not a stage name');
    expect(cfn.commandCalls(DescribeStacksCommand)).toHaveLength(0);
  });
});

describe('isMissingResource', () => {
  it('recognises a vanished table or state machine, also as the cause of another error', () => {
    const gone = Object.assign(new Error('Requested resource not found'), {
      name: 'ResourceNotFoundException',
    });

    expect(isMissingResource(gone)).toBe(true);
    expect(isMissingResource(new CliError('could not start the run', 4, { cause: gone }))).toBe(true);
    expect(isMissingResource(new Error('throttled'))).toBe(false);
  });
});
