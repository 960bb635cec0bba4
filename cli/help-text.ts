/**
 * Help text several commands end with (exit codes, the filter flags) and the program's own; each
 * command's examples live next to it in commands/ (docs/cli.md has the long form).
 */

export const EXIT_CODES = `
Exit codes:
  0 every host succeeded    1 nothing matched          2 a command exited non-zero
  3 a host did not answer, timed out or was cancelled   4 invalid request, rejected, or drover error
  130 interrupted with Ctrl-C (the run was asked to cancel)`;

export const FILTERS = `
Filters (they AND together; docs/cli.md has the whole language):
  -W, --with 'role=web'         a fact comparison, or a bare class/fact name
  -F, --wf 'cpus>=4'            fact: = != =~ < > <= >=, /regex/, dotted paths (os.family=Debian)
  -C, --wc nginx                class, exact or /regex/
  -I, --wi web-1                identity, exact or /regex/ (repeat to list several)
  -S, --select 'role=web and (az=us-east-1a or az=us-east-1b) and not class:maintenance'`;

export const PROGRAM_HELP = `
Examples:
  $ drover run 'uptime' -F role=web         run a command on the web servers
  $ drover ping                             which hosts answer, and how fast
  $ drover find -C nginx                    which hosts match (nothing is sent)
  $ drover facts os.family                  how a fact is distributed
  $ drover runs                             recent runs; drover show <runId> reprints one
  $ drover cost --hosts 500                 what a 500-host fleet costs a month

The stack: the local one (npm start) unless --stage or DROVER_STAGE names a deployed stage.
${EXIT_CODES}`;
