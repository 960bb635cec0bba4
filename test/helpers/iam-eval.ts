/**
 * A small evaluator of identity-based policy statements from the packaged template, enough to ask
 * "would IAM allow this call?" of the agent policy: Allow statements only, Action and Resource
 * wildcards, the condition operators the template uses (StringEquals, StringEqualsIfExists,
 * ForAllValues:StringEquals), and policy variables (`${ec2:SourceInstanceARN}`) resolved from the
 * request context. A variable the context lacks makes its statement not apply, as IAM documents
 * ("If AWS cannot resolve a variable this might cause the entire statement to be invalid").
 * Anything else in a statement it is given is an error, so the evaluator cannot quietly allow it.
 */
import { actionMatches, asList, type PolicyStatement } from './cloudformation.ts';

export interface IamRequest {
  action: string;
  /** The ARN the call is on, e.g. `arn:aws:sqs:us-east-1:123456789012:drover-ci-node-i-0abc`. */
  resource: string;
  /** Condition keys of the request: `ec2:SourceInstanceARN`, `aws:RequestTag/x`, `aws:TagKeys`... */
  context: Record<string, string | string[] | undefined>;
}

/** CloudFormation pseudo parameters, for the Fn::Sub strings in the template. */
export interface Pseudo {
  partition: string;
  region: string;
  accountId: string;
}

/** The text of a template value after CloudFormation: Fn::Sub resolved, `${!x}` left as `${x}`. */
function cfnText(value: unknown, pseudo: Pseudo): string {
  if (typeof value === 'string') return value;
  const sub = (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof sub !== 'string') throw new Error(`unsupported template value ${JSON.stringify(value)}`);
  const names: Record<string, string> = {
    'AWS::Partition': pseudo.partition,
    'AWS::Region': pseudo.region,
    'AWS::AccountId': pseudo.accountId,
  };
  return sub.replace(/\$\{(!?)([^}]+)\}/g, (_, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    const resolved = names[name];
    if (resolved === undefined) throw new Error(`unsupported Fn::Sub variable ${name}`);
    return resolved;
  });
}

/** Policy variables replaced from the request, or undefined when one is missing. */
function withVariables(text: string, context: IamRequest['context']): string | undefined {
  let missing = false;
  const out = text.replace(/\$\{([^}]+)\}/g, (_, key: string) => {
    const value = context[key];
    if (typeof value !== 'string') missing = true;
    return typeof value === 'string' ? value : '';
  });
  return missing ? undefined : out;
}

const wildcard = (pattern: string, text: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(text);

function conditionHolds(operator: string, key: string, values: string[], request: IamRequest): boolean {
  const actual = request.context[key];
  switch (operator) {
    case 'StringEquals':
      return typeof actual === 'string' && values.includes(actual);
    case 'StringEqualsIfExists':
      return actual === undefined || (typeof actual === 'string' && values.includes(actual));
    case 'ForAllValues:StringEquals':
      return asList(actual).every((v) => values.includes(v));
    default:
      throw new Error(`unsupported condition operator ${operator}`);
  }
}

function statementAllows(statement: PolicyStatement, request: IamRequest, pseudo: Pseudo): boolean {
  if (statement.Effect !== 'Allow') throw new Error('only Allow statements are evaluated');
  if (!asList(statement.Action).some((a) => actionMatches(a as string, request.action))) return false;
  const resources = asList(statement.Resource).map((r) => withVariables(cfnText(r, pseudo), request.context));
  if (!resources.some((r) => r !== undefined && wildcard(r, request.resource))) return false;
  const conditions = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
  return Object.entries(conditions).every(([operator, keys]) =>
    Object.entries(keys).every(([key, raw]) => {
      const values = asList(raw).map((v) => withVariables(cfnText(v, pseudo), request.context));
      if (values.some((v) => v === undefined)) return false;
      return conditionHolds(operator, key, values as string[], request);
    }),
  );
}

/** Whether the statements allow the request (no Deny statements are expected in them). */
export function iamAllows(
  statements: readonly PolicyStatement[],
  request: IamRequest,
  pseudo: Pseudo,
): boolean {
  return statements.some((statement) => statementAllows(statement, request, pseudo));
}
