/**
 * Deploy-time values serverless.yml reads through this file, each checked the way the rest of
 * drover checks it, so a value that cannot be used is refused at `sls package` / `sls deploy` time
 * rather than found later (or by CloudFormation half-way through a deploy):
 *
 * - `${file(./shared/deploy-params.cjs):stage}`: the stage, once it has passed the rule every other
 *   part of drover applies (stage-config.ts, `stageNameProblem`);
 * - `${file(./shared/deploy-params.cjs):alarmEmail}`: the `alarmEmail` param, empty or an address.
 *
 * CommonJS because serverless `require`s variable-source files and the package is `"type": "module"`.
 * tsx's namespaced `require` loads the TypeScript rule without hooking serverless's own requires.
 */
'use strict';

const tsx = require('tsx/cjs/api');

const { stageNameProblem } = tsx.require('./stage-config.ts', __filename);

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Fails the variable with `message` alone: serverless prints the stack when there is one. */
function refuse(message) {
  const error = new Error(message);
  delete error.stack;
  throw error;
}

module.exports.stage = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const problem = stageNameProblem(stage);
  if (problem) refuse(`stage "${stage}" cannot be used: ${problem}`);
  return stage;
};

module.exports.alarmEmail = async ({ resolveVariable }) => {
  const value = String(await resolveVariable('param:alarmEmail')).trim();
  if (value !== '' && !EMAIL.test(value)) {
    refuse(
      `param alarmEmail "${value}" is not an email address (e.g. --param="alarmEmail=oncall@example.com", or leave it out)`,
    );
  }
  return value;
};
