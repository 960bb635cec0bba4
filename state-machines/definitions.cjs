/**
 * The state machine definitions for serverless.yml, read from the `*.asl.json` files that local
 * mode runs too: `${PlanFunctionArn}` becomes `{ "Fn::GetAtt": ["PlanLambdaFunction", "Arn"] }`,
 * the logical id serverless gives the `plan` function. serverless-step-functions then turns the
 * intrinsic into a Fn::Sub parameter of the DefinitionString.
 *
 * Usage: `definition: ${file(./state-machines/definitions.cjs):run}`.
 *
 * CommonJS because serverless `require`s variable-source files and the package is `"type": "module"`.
 * Nothing of the form `${...}` may survive: serverless would try to resolve it as its own variable.
 */
'use strict';

const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const PLACEHOLDER = /^\$\{([A-Z][A-Za-z0-9]*)FunctionArn\}$/;

/** `${AwaitRepliesFunctionArn}` → `AwaitRepliesLambdaFunction`, or undefined for other strings. */
function logicalIdFor(value) {
  const match = PLACEHOLDER.exec(value);
  return match ? `${match[1]}LambdaFunction` : undefined;
}

function substitute(value) {
  if (typeof value === 'string') {
    const logicalId = logicalIdFor(value);
    return logicalId ? { 'Fn::GetAtt': [logicalId, 'Arn'] } : value;
  }
  if (Array.isArray(value)) return value.map(substitute);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, substitute(v)]));
  }
  return value;
}

/** The definition of `<name>.asl.json` with every function placeholder replaced. */
function loadDefinition(file) {
  const definition = substitute(JSON.parse(readFileSync(join(__dirname, file), 'utf8')));
  const leftover = /\$\{[^}]*\}/.exec(JSON.stringify(definition));
  if (leftover) {
    throw new Error(
      `${file}: "${leftover[0]}" is not a function placeholder; use a whole string value like "\${PlanFunctionArn}"`,
    );
  }
  return definition;
}

const SUFFIX = '.asl.json';

module.exports = Object.fromEntries(
  readdirSync(__dirname)
    .filter((file) => file.endsWith(SUFFIX))
    .sort()
    .map((file) => [file.slice(0, -SUFFIX.length), loadDefinition(file)]),
);
