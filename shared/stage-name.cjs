/**
 * `${file(./shared/stage-name.cjs):checked}` in serverless.yml: the stage, once it has passed the rule
 * every other part of drover applies (stage-config.ts, `stageNameProblem`), so a stage
 * that could not be used safely is refused at `sls package` / `sls deploy` time, not found later.
 *
 * CommonJS because serverless `require`s variable-source files and the package is `"type": "module"`.
 * tsx's namespaced `require` loads the TypeScript rule without hooking serverless's own requires.
 */
'use strict';

const tsx = require('tsx/cjs/api');

const { stageNameProblem } = tsx.require('./stage-config.ts', __filename);

module.exports.checked = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const problem = stageNameProblem(stage);
  if (problem) {
    const error = new Error(`stage "${stage}" cannot be used: ${problem}`);
    delete error.stack; // serverless prints the stack when there is one; the message says it all
    throw error;
  }
  return stage;
};
