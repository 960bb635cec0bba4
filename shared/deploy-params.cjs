/**
 * `${file(./shared/deploy-params.cjs):alarmEmail}` in serverless.yml: the `alarmEmail` param, once
 * it is empty or looks like an address, so a typo is refused at `sls package` / `sls deploy` time
 * rather than by CloudFormation half-way through a deploy.
 *
 * CommonJS because serverless `require`s variable-source files and the package is `"type": "module"`.
 */
'use strict';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

module.exports.alarmEmail = async ({ resolveVariable }) => {
  const value = String(await resolveVariable('param:alarmEmail')).trim();
  if (value !== '' && !EMAIL.test(value)) {
    const error = new Error(
      `param alarmEmail "${value}" is not an email address (e.g. --param="alarmEmail=oncall@example.com", or leave it out)`,
    );
    delete error.stack; // serverless prints the stack when there is one; the message says it all
    throw error;
  }
  return value;
};
