/**
 * Deploy-time values serverless.yml reads through this file, each checked the way the rest of
 * drover checks it, so a value that cannot be used is refused at `sls package` / `sls deploy` time
 * rather than found later (or by CloudFormation half-way through a deploy):
 *
 * - `${file(./shared/deploy-params.cjs):stage}`: the stage, once it has passed the rule every other
 *   part of drover applies (stage-config.ts, `stageNameProblem`);
 * - `${file(./shared/deploy-params.cjs):alarmEmail}`: the `alarmEmail` param, empty or an address;
 * - `${file(./shared/deploy-params.cjs):logRetentionDays}`: the `logRetentionDays` param, one of
 *   the values CloudWatch Logs accepts (45 would fail the deploy half-way, at the first log group);
 * - `${file(./shared/deploy-params.cjs):dataDeletionPolicy}` and `:dataDeletionProtection`: from
 *   the `keepData` param (`true` by default): whether `sls remove`, or a change that replaces them,
 *   keeps the two tables and the signing key (`Retain`, deletion protection on) or deletes them.
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

/** The values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

module.exports.logRetentionDays = async ({ resolveVariable }) => {
  const value = String(await resolveVariable('param:logRetentionDays')).trim();
  const days = Number(value);
  if (!LOG_RETENTION_DAYS.includes(days)) {
    refuse(
      `param logRetentionDays "${value}" is not a retention CloudWatch Logs accepts: one of ${LOG_RETENTION_DAYS.join(', ')}`,
    );
  }
  return days;
};

/** The `keepData` param: true unless `false` is given; anything else is refused. */
async function keepData(resolveVariable) {
  const value = String(await resolveVariable('param:keepData')).trim();
  if (value !== 'true' && value !== 'false') {
    refuse(
      `param keepData "${value}" is neither true nor false (keepData=false lets sls remove delete the tables and the signing key of a throw-away stage)`,
    );
  }
  return value === 'true';
}

module.exports.dataDeletionPolicy = async ({ resolveVariable }) =>
  (await keepData(resolveVariable)) ? 'Retain' : 'Delete';

module.exports.dataDeletionProtection = async ({ resolveVariable }) => keepData(resolveVariable);
