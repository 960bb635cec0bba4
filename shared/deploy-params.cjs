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
 *   keeps the two tables and the signing key (`Retain`, deletion protection on) or deletes them;
 * - the large-fleet knobs (shared/large-fleet.ts, docs/deploy.md "Large fleets"), all off by
 *   default: `:ingestPollerConfig` (the replies event source's ProvisionedPollerConfig),
 *   `:runsWarmThroughput` and `:nodesWarmThroughput` (the tables' WarmThroughput), each
 *   `{ Ref: AWS::NoValue }` (no property at all) while off; `:planScanSegments` and
 *   `:planWritesInFlight`, `:dispatchGroupSize` (the plan function's environment).
 *
 * CommonJS because serverless `require`s variable-source files and the package is `"type": "module"`.
 * tsx's namespaced `require` loads the TypeScript rule without hooking serverless's own requires.
 */
'use strict';

const tsx = require('tsx/cjs/api');

const { stageNameProblem } = tsx.require('./stage-config.ts', __filename);
const largeFleet = tsx.require('./large-fleet.ts', __filename);

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

/** CloudFormation's "no property": what a knob that is off becomes. */
const NO_VALUE = { Ref: 'AWS::NoValue' };

/** Runs a shared/large-fleet.ts check, refusing with its message alone. */
function checked(check) {
  try {
    return check();
  } catch (error) {
    if (error instanceof largeFleet.LargeFleetConfigError) refuse(error.message);
    throw error;
  }
}

const param = async (resolveVariable, name) => String(await resolveVariable(`param:${name}`));

module.exports.ingestPollerConfig = async ({ resolveVariable }) => {
  const min = await param(resolveVariable, 'ingestMinPollers');
  const max = await param(resolveVariable, 'ingestMaxPollers');
  const pollers = checked(() => largeFleet.ingestPollers(min, max));
  return pollers ? { MinimumPollers: pollers.minimum, MaximumPollers: pollers.maximum } : NO_VALUE;
};

async function tableWarmThroughput(resolveVariable, prefix) {
  const reads = await param(resolveVariable, `${prefix}WarmReads`);
  const writes = await param(resolveVariable, `${prefix}WarmWrites`);
  const warm = checked(() => largeFleet.warmThroughput(prefix, reads, writes));
  if (!warm) return NO_VALUE;
  return {
    ...(warm.reads === undefined ? {} : { ReadUnitsPerSecond: warm.reads }),
    ...(warm.writes === undefined ? {} : { WriteUnitsPerSecond: warm.writes }),
  };
}

module.exports.runsWarmThroughput = async ({ resolveVariable }) =>
  tableWarmThroughput(resolveVariable, 'runs');
module.exports.nodesWarmThroughput = async ({ resolveVariable }) =>
  tableWarmThroughput(resolveVariable, 'nodes');

module.exports.planScanSegments = async ({ resolveVariable }) => {
  const text = await param(resolveVariable, 'planScanSegments');
  return String(
    checked(() => largeFleet.boundedCount('param planScanSegments', text, largeFleet.SCAN_SEGMENTS)),
  );
};

module.exports.dispatchGroupSize = async ({ resolveVariable }) => {
  const text = await param(resolveVariable, 'dispatchGroupSize');
  return String(
    checked(() => largeFleet.boundedCount('param dispatchGroupSize', text, largeFleet.DISPATCH_GROUP_HOSTS)),
  );
};

module.exports.planWritesInFlight = async ({ resolveVariable }) => {
  const text = await param(resolveVariable, 'planWritesInFlight');
  return String(
    checked(() => largeFleet.boundedCount('param planWritesInFlight', text, largeFleet.WRITES_IN_FLIGHT)),
  );
};

/** The runs table's byResult index: each landed result writes it, so it is warmed with the table's writes. */
module.exports.runsIndexWarmThroughput = async ({ resolveVariable }) => {
  const warm = await tableWarmThroughput(resolveVariable, 'runs');
  return warm.WriteUnitsPerSecond === undefined
    ? NO_VALUE
    : { WriteUnitsPerSecond: warm.WriteUnitsPerSecond };
};
