/**
 * DescribeStateMachine and ListStateMachines of the local Step Functions endpoint, in the API's
 * shapes, so `aws stepfunctions describe-state-machine` and `list-state-machines` work locally.
 */
import { SfnApiError } from './sfn-errors.ts';
import type { StateMachineRecord } from './step-functions.ts';

type Body = Record<string, unknown>;

/** The role the local stack pretends its state machines run as (nothing checks it locally). */
const LOCAL_ROLE = 'arn:aws:iam::000000000000:role/drover-local-state-machines';

export function describeStateMachine(machine: StateMachineRecord): Body {
  return {
    stateMachineArn: machine.stateMachineArn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definition,
    roleArn: LOCAL_ROLE,
    type: 'STANDARD',
    creationDate: machine.creationDate / 1000,
  };
}

/** One page of ListStateMachines (`maxResults` 0–1000, 100 when 0 or absent). */
export function listStateMachines(machines: readonly StateMachineRecord[], request: Body): Body {
  const max = typeof request.maxResults === 'number' && request.maxResults > 0 ? request.maxResults : 100;
  if (max > 1000) {
    throw new SfnApiError(
      'ValidationException',
      "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000",
    );
  }
  const start = request.nextToken === undefined ? 0 : Number(request.nextToken);
  if (!Number.isInteger(start) || start < 0 || start > machines.length) {
    throw new SfnApiError('InvalidToken', 'Invalid Token: the nextToken is not one this API returned');
  }
  const page = machines.slice(start, start + max);
  return {
    stateMachines: page.map((m) => ({
      stateMachineArn: m.stateMachineArn,
      name: m.name,
      type: 'STANDARD',
      creationDate: m.creationDate / 1000,
    })),
    ...(start + max < machines.length ? { nextToken: String(start + max) } : {}),
  };
}
