/**
 * Reading a generated CloudFormation template in tests: resources by type, and IAM statements
 * flattened to grants (`"dynamodb:Query on RunsTable.Arn"`) that a test can compare as a set.
 */

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
  /** The name of a template condition: the resource exists only where it holds. */
  Condition?: string;
}

export interface CfnOutput {
  Description?: string;
  Value: unknown;
  Export?: { Name: unknown };
}

export interface CfnTemplate {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, CfnResource>;
  Outputs: Record<string, CfnOutput>;
}

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

interface PolicyDocument {
  Statement: PolicyStatement[];
}

/**
 * Evaluates condition `name`, which must have the one form drover's template uses for its
 * optional parameters: `Fn::Not: [Fn::Equals: [a, b]]` with literal operands.
 */
export function conditionHolds(template: CfnTemplate, name: string): boolean {
  const condition = template.Conditions?.[name] as { 'Fn::Not'?: [{ 'Fn::Equals'?: [unknown, unknown] }] };
  const operands = condition?.['Fn::Not']?.[0]?.['Fn::Equals'];
  if (!operands) throw new Error(`condition ${name} is not Fn::Not [Fn::Equals [a, b]]`);
  return operands[0] !== operands[1];
}

export function resource(template: CfnTemplate, logicalId: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`the template has no resource ${logicalId}`);
  return found;
}

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * A resource reference as text: `RunsTable.Arn` for Fn::GetAtt, `RunsTable` for Ref, the template
 * string of a Fn::Sub (its own variables described in place), `*` for everything.
 */
export function describeRef(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object') {
    const ref = value as Record<string, unknown>;
    if (typeof ref.Ref === 'string') return ref.Ref;
    if (Array.isArray(ref['Fn::GetAtt'])) return (ref['Fn::GetAtt'] as string[]).join('.');
    const join = ref['Fn::Join'];
    if (Array.isArray(join) && typeof join[0] === 'string' && Array.isArray(join[1]))
      return (join[1] as unknown[]).map(describeRef).join(join[0]);
    const sub = ref['Fn::Sub'];
    if (typeof sub === 'string') return sub;
    if (Array.isArray(sub) && typeof sub[0] === 'string') {
      const variables = (sub[1] ?? {}) as Record<string, unknown>;
      return sub[0].replace(/\$\{([^}]+)\}/g, (whole, name: string) =>
        name in variables ? describeRef(variables[name]) : whole,
      );
    }
  }
  return JSON.stringify(value);
}

/** Every `Allow` as `"<action> on <resource>"`, sorted. */
export function grants(statements: readonly PolicyStatement[]): string[] {
  return statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      asList(s.Action).flatMap((action) => asList(s.Resource).map((r) => `${action} on ${describeRef(r)}`)),
    )
    .sort();
}

/** True when an IAM action pattern (`kms:*`, `sqs:Send*`, `*`) covers `action`. */
export function actionMatches(pattern: string, action: string): boolean {
  const regex = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${regex}$`, 'i').test(action);
}

/** The statements of a role's inline policies plus any AWS::IAM::Policy attached to it. */
export function roleStatements(template: CfnTemplate, roleId: string): PolicyStatement[] {
  const role = resource(template, roleId);
  const inline = asList(role.Properties.Policies as { PolicyDocument: PolicyDocument }[] | undefined);
  const attached = resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, policy]) =>
      asList(policy.Properties.Roles as unknown[] | undefined).some((r) => describeRef(r) === roleId),
    )
    .map(([, policy]) => policy.Properties as { PolicyDocument: PolicyDocument });
  return [...inline, ...attached].flatMap((p) => p.PolicyDocument.Statement);
}

/** The statements of a managed policy resource. */
export function managedPolicyStatements(template: CfnTemplate, policyId: string): PolicyStatement[] {
  return (resource(template, policyId).Properties.PolicyDocument as PolicyDocument).Statement;
}

/** Every identity-based statement in the template, with the logical id of its role or policy. */
export function identityStatements(template: CfnTemplate): { owner: string; statement: PolicyStatement }[] {
  const owned = (owner: string, statements: PolicyStatement[]) =>
    statements.map((statement) => ({ owner, statement }));
  return [
    ...resourcesOfType(template, 'AWS::IAM::Role').flatMap(([id]) => owned(id, roleStatements(template, id))),
    ...resourcesOfType(template, 'AWS::IAM::ManagedPolicy').flatMap(([id]) =>
      owned(id, managedPolicyStatements(template, id)),
    ),
  ];
}

/** The states of an ASL definition, including those nested in Parallel branches and Map processors. */
export function allStates(definition: unknown): Record<string, unknown>[] {
  const states: Record<string, unknown>[] = [];
  const visit = (value: unknown, underStates: boolean): void => {
    if (value === null || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value)) {
      if (underStates && child !== null && typeof child === 'object') {
        states.push(child as Record<string, unknown>);
      }
      visit(child, key === 'States');
    }
  };
  visit(definition, false);
  return states;
}

/** The logical id serverless gives a function's resource: `awaitReplies` → `AwaitRepliesLambdaFunction`. */
export function lambdaLogicalId(functionName: string): string {
  return `${functionName.charAt(0).toUpperCase()}${functionName.slice(1)}LambdaFunction`;
}
