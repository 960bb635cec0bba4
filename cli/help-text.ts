/** The examples and notes each command's `--help` ends with (docs/cli.md has the long form). */

const EXIT_CODES = `
Exit codes:
  0 every host succeeded    1 nothing matched          2 a command exited non-zero
  3 a host did not answer, timed out or was cancelled   4 invalid request, rejected, or drover error
  130 interrupted with Ctrl-C (the run was asked to cancel)`;

const FILTERS = `
Filters (they AND together; docs/cli.md has the whole language):
  -W, --with 'role=web'         a fact comparison, or a bare class/fact name
  -F, --wf 'cpus>=4'            fact: = != =~ < > <= >=, /regex/, dotted paths (os.family=Debian)
  -C, --wc nginx                class, exact or /regex/
  -I, --wi web-1                identity, exact or /regex/ (repeat to list several)
  -S, --select 'role=web and (az=us-east-1a or az=us-east-1b) and not class:maintenance'`;

export const HELP = {
  program: `
Examples:
  $ drover run 'uptime' -F role=web         run a command on the web servers
  $ drover ping                             which hosts answer, and how fast
  $ drover find -C nginx                    which hosts match (nothing is sent)
  $ drover facts os.family                  how a fact is distributed
  $ drover runs                             recent runs; drover show <runId> reprints one
  $ drover cost --hosts 500                 what a 500-host fleet costs a month

The stack: the local one (npm start) unless --stage or DROVER_STAGE names a deployed stage.
${EXIT_CODES}`,

  run: `${FILTERS}

Examples:
  $ drover run 'uptime'                                   every host
  $ drover run 'systemctl restart nginx' -F role=web -F env=production --batch 25% --max-errors 1
  $ drover run 'df -h /' -S 'role=db or class:postgresql' -t 30
  $ drover run 'hostname' -C nginx --json | jq -r '.hosts[].stdout'
  $ drover run 'apt-get -y upgrade' --limit 10% --limit-seed monday
  $ drover run 'false' --json --display failed | drover run 'journalctl -n 20' --nodes -
  $ drover run 'sleep 600' --async                        prints the run id; drover show <id> later
  $ drover run 'uptime' --jsonl | jq -c 'select(.type == "host") | {identity, exitCode}'
${EXIT_CODES}`,

  ping: `${FILTERS}

Examples:
  $ drover ping                        every host, with its round-trip time
  $ drover ping -F role=web --dt 2     give hosts 2 s to answer
  $ drover ping --json | jq '.stats'

Round-trip time: from the dispatch of the request to the host's answer being recorded.
Exit codes: 0 every host answered, 1 nothing matched, 3 some did not answer.`,

  find: `${FILTERS}

Examples:
  $ drover find -F role=web                      one host per line, with its last heartbeat
  $ drover find -C nginx | drover run 'nginx -t' --nodes -
  $ drover find --include-stale --json | jq -r '.hosts[] | select(.stale) | .identity'

Nothing is sent to the hosts: this reads the facts table. Exit code 1 when nothing matches.`,

  facts: `${FILTERS}

Examples:
  $ drover facts role                  each value of role, how many hosts have it, and which
  $ drover facts os.family -C nginx    nested facts by dotted path, on the nginx hosts
  $ drover facts kernel --json | jq -r '.values[] | "\\(.count) \\(.text)"'`,

  inventory: `
Examples:
  $ drover inventory web-1             facts, classes, agent version, last heartbeat
  $ drover inventory i-0abc123 --json  by node id too

Exit code 1 when the host is not in the facts table.`,

  runs: `
Examples:
  $ drover runs                        the 20 most recent runs
  $ drover runs --limit 50 --caller alice@bastion --status failed
  $ drover runs --json | jq -r '.runs[0].runId'
  $ drover runs --limit 500 --total-by caller   estimated AWS cost of the last 500 runs, per caller
  $ drover runs --total-by day --json | jq '.totals'

Costs are estimates from each run's hosts, batches and duration with the model of drover cost.`,

  show: `
Examples:
  $ drover show 01JD3X7Q9M4T2R8K6P0W5N1B3C              as drover run printed it
  $ drover show 01JD3X7Q9M4T2R8K6P0W5N1B3C --display failed
  $ drover show 01JD3X7Q9M4T2R8K6P0W5N1B3C --json | jq '.summary'

A run still going is followed to its end (Ctrl-C stops watching, not the run).
Exits with the run's exit code.`,

  cancel: `
Examples:
  $ drover cancel 01JD3X7Q9M4T2R8K6P0W5N1B3C           stop it and wait for it to end
  $ drover cancel 01JD3X7Q9M4T2R8K6P0W5N1B3C --wait 0  do not wait

Hosts running the command are told to kill its process group; hosts that never acknowledged
are given up on. Both end as cancelled. Exit code 1 when the run had already finished.`,

  cost: `
Examples:
  $ drover cost                                        100 hosts, 50 runs a day
  $ drover cost --hosts 2000 --runs-per-day 200 --hosts-per-run 50
  $ drover cost --hosts 500 --heartbeat-seconds 300 --price-sqs-per-million 0.5 --json

Every assumption and price is printed with the flag that overrides it. No AWS call is made.`,

  schema: `
Examples:
  $ drover schema                      the names of the outputs
  $ drover schema run                  the JSON Schema of drover run --json`,
} as const;
