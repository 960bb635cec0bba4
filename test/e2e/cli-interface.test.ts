/**
 * The CLI's conventions end to end: help with examples, one-line errors with exit code 4 (stack
 * traces only with --debug), deployed stages found through CloudFormation (a fake endpoint whose
 * outputs point at the local stack), and the terminal-only behaviours (progress bar, colours) in a
 * pseudo-terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDocumentSchema } from '#cli/output/schemas.ts';
import { startTestStack, type TestStack } from '../helpers/local-stack.ts';
import { stopAll } from '../helpers/processes.ts';
import { droverCli, droverInTerminal, plainText, stopCliProcesses } from '../helpers/cli.ts';
import { startFakeCloudFormation, type FakeCloudFormation } from '../helpers/fake-cloudformation.ts';
import { startFleet } from '../helpers/fleet.ts';

let t: TestStack;
let cfn: FakeCloudFormation;
/** A project directory with no local stack, for deployed stages and errors. */
let elsewhere: string;

const COMMANDS = ['run', 'ping', 'find', 'facts', 'inventory', 'runs', 'show', 'cancel', 'cost', 'schema'];
// eslint-disable-next-line no-control-regex
const COLOUR = /\x1b\[3\dm/;
const BAR = /[█░]+ \d+\/\d+ hosts answered/;

beforeAll(async () => {
  t = await startTestStack();
  elsewhere = mkdtempSync(join(tmpdir(), 'drover-cli-'));
  await startFleet(t, [{ identity: 'web-1', facts: { role: 'web' }, classes: ['nginx'] }]);
  const file = t.stack.file;
  cfn = await startFakeCloudFormation({
    'drover-test': {
      RunStateMachineArn: file.stateMachines.run!,
      CancelStateMachineArn: file.stateMachines.cancel!,
      NodesTableName: file.nodesTable,
      RunsTableName: file.runsTable,
      RepliesQueueUrl: file.repliesQueueUrl,
      SigningKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/test',
      EventBusName: 'drover-test',
      Region: file.region,
      Stage: 'test',
      AgentPolicyArn: 'arn:aws:iam::000000000000:policy/agent',
      OperatorPolicyArn: 'arn:aws:iam::000000000000:policy/operator',
    },
  });
});

afterAll(async () => {
  await stopCliProcesses();
  await stopAll();
  await cfn?.close();
  await t?.stop();
  if (elsewhere) rmSync(elsewhere, { recursive: true, force: true });
});

describe('help', () => {
  it('every command has --help with real examples', async () => {
    const results = await Promise.all(COMMANDS.map((command) => droverCli(t.home, [command, '--help'])));

    for (const [i, r] of results.entries()) {
      expect(r.code, COMMANDS[i]).toBe(0);
      expect(r.stdout, COMMANDS[i]).toMatch(new RegExp(`^Usage: drover ${COMMANDS[i]} `));
      expect(r.stdout, COMMANDS[i]).toMatch(new RegExp(`\\n {2}\\$ drover ${COMMANDS[i]}\\b`));
    }
  });
});

describe('errors', () => {
  it.each([
    [['run', 'true', '--bogus'], "drover: unknown option '--bogus' (drover run --help lists the options)"],
    [[], 'drover: missing command: give one of run, ping, find, facts, inventory, runs, show, cancel, cost'],
    [
      ['rnu', 'true'],
      'drover: unknown command "rnu"; did you mean "run"? (drover --help lists the commands)',
    ],
    [['run'], "drover: missing required argument 'command' (drover run --help lists the options)"],
    [['run', 'true', '-t', 'soon'], 'drover: --timeout must be a whole number of at least 1, got "soon"'],
    [['run', 'true', '--batch', '150%'], 'drover: --batch must be a share from 1% to 100%, got "150%"'],
    [
      ['run', 'true', '--json', '--jsonl'],
      "drover: option '-j, --json' cannot be used with option '--jsonl'",
    ],
    [['run', 'true', '-S', 'role=web and ('], 'drover: -S: expected a fact, class or "(" at column 15'],
    [['run', 'true', '--stage', 'Bad_Stage'], 'drover: "Bad_Stage" is not a stage name'],
    [
      ['run', 'true', '--stage', 'ci-node'],
      'drover: "ci-node" is not a stage name: no "-node" segment after the first',
    ],
  ])('drover %j: one line saying what is wrong, exit code 4, no stack trace', async (args, line) => {
    const r = await droverCli(t.home, args);

    expect(r.code).toBe(4);
    expect(r.stderr.split('\n')[0]).toContain(line);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stdout).toBe('');
  });

  it('an unreachable local stack is one line and exit 4; --debug adds the stack trace', async () => {
    const [plain, debug] = await Promise.all([
      droverCli(elsewhere, ['find']),
      droverCli(elsewhere, ['find', '--debug']),
    ]);

    expect(plain.code).toBe(4);
    expect(plain.stderr).toBe(
      `drover: no local stack found (${join(elsewhere, 'local.json')} is missing): start one with \`npm start\`\n`,
    );
    expect(debug.code).toBe(4);
    expect(debug.stderr).toMatch(/^\s+at .*stack\.ts/m);
  });
});

describe('deployed stages', () => {
  // The stage is the local stack behind a fake CloudFormation: sign with its secret, or its STS
  // refuses the caller proof drover run sends to a deployed stage (SignatureDoesNotMatch).
  const env = () => ({ AWS_ENDPOINT_URL_CLOUDFORMATION: cfn.url, AWS_SECRET_ACCESS_KEY: 'local' });

  it('refuses an unknown stage in one line with exit 4, from --stage or DROVER_STAGE', async () => {
    const [flag, variable] = await Promise.all([
      droverCli(elsewhere, ['--stage', 'nope', 'find'], { env: env() }),
      droverCli(elsewhere, ['runs'], { env: { ...env(), DROVER_STAGE: 'nope' } }),
    ]);

    for (const r of [flag, variable]) {
      expect(r.code).toBe(4);
      expect(r.stderr).toBe(
        'drover: unknown stage "nope": there is no CloudFormation stack drover-nope in us-east-1 ' +
          '(deploy it with `npx sls deploy --stage nope`, or check --stage and AWS_REGION)\n',
      );
    }
  });

  it('finds a stage from its stack outputs, caches them, and re-reads them on --refresh or when old', async () => {
    const home = mkdtempSync(join(tmpdir(), 'drover-stage-'));
    try {
      const asked = () => cfn.requests.filter((name) => name === 'drover-test').length;
      const before = asked();

      const find = await droverCli(home, ['--stage', 'test', 'find'], { env: env() });
      const run = await droverCli(
        home,
        ['run', 'echo on stage test', '-I', 'web-1', '--stage', 'test', '--json'],
        {
          env: env(),
        },
      );
      const cached = asked();
      await droverCli(home, ['--stage', 'test', '--refresh', 'find'], { env: env() });
      const refreshed = asked();
      const cacheFile = join(home, 'stages', 'test.json');
      const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { fetchedAt: number };
      writeFileSync(cacheFile, JSON.stringify({ ...cache, fetchedAt: Date.now() - 2 * 3_600_000 }));
      await droverCli(home, ['--stage', 'test', 'find'], { env: env() });
      const expired = asked();

      expect(find.code).toBe(0);
      expect(find.stdout).toMatch(/^web-1 +last seen/);
      expect(run.code).toBe(0);
      expect(runDocumentSchema.parse(JSON.parse(run.stdout)).hosts[0]!.stdout).toBe('on stage test\n');
      expect(existsSync(cacheFile)).toBe(true);
      expect(cached - before).toBe(1);
      expect(refreshed - cached).toBe(1);
      expect(expired - refreshed).toBe(1);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('re-reads the outputs once when a cached resource no longer exists', async () => {
    const home = mkdtempSync(join(tmpdir(), 'drover-stage-'));
    try {
      await droverCli(home, ['--stage', 'test', 'find'], { env: env() });
      const cacheFile = join(home, 'stages', 'test.json');
      const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { outputs: Record<string, string> };
      writeFileSync(
        cacheFile,
        JSON.stringify({ ...cache, outputs: { ...cache.outputs, nodesTable: 'drover-test-gone' } }),
      );
      const before = cfn.requests.length;

      const r = await droverCli(home, ['--stage', 'test', 'find', '-I', 'web-1'], { env: env() });

      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^web-1 /);
      expect(cfn.requests.length - before).toBe(1);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe('terminal behaviours', () => {
  const command = ['run', 'sleep 0.5; echo done', '-I', 'web-1'];

  it('on a terminal: a progress bar on stderr and coloured host headers', async () => {
    const r = await droverInTerminal(t.home, command, { env: { NO_COLOR: undefined } });

    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(BAR);
    expect(r.stdout).toMatch(COLOUR);
    expect(plainText(r.stdout)).toContain('>>>>>> web-1 exit code: (0):\ndone\n');
  });

  it('NO_COLOR turns the colours off; --no-progress the bar', async () => {
    const [noColor, noProgress] = await Promise.all([
      droverInTerminal(t.home, command, { env: { NO_COLOR: '1' } }),
      droverInTerminal(t.home, [...command, '--no-progress'], { env: { NO_COLOR: undefined } }),
    ]);

    expect(noColor.stdout).toMatch(BAR);
    expect(noColor.stdout).not.toMatch(COLOUR);
    expect(noProgress.stdout).not.toMatch(BAR);
    expect(noProgress.stdout).toMatch(COLOUR);
  });

  it('--json and --jsonl on a terminal print only the data: no bar, no colour', async () => {
    const [doc, lines] = await Promise.all([
      droverInTerminal(t.home, [...command, '--json'], { env: { NO_COLOR: undefined } }),
      droverInTerminal(t.home, [...command, '--jsonl'], { env: { NO_COLOR: undefined } }),
    ]);

    expect(runDocumentSchema.parse(JSON.parse(doc.stdout.replace(/\r/g, ''))).hosts).toHaveLength(1);
    expect(
      lines.stdout
        .replace(/\r/g, '')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toHaveLength(2);
    for (const r of [doc, lines]) {
      expect(r.stdout).not.toMatch(BAR);
      expect(r.stdout).not.toMatch(COLOUR);
    }
  });

  it('off a terminal: no bar and no colour, unless --progress asks for the bar', async () => {
    const [piped, forced] = await Promise.all([
      droverCli(t.home, command, { env: { NO_COLOR: undefined } }),
      droverCli(t.home, [...command, '--progress'], { env: { NO_COLOR: undefined } }),
    ]);

    expect(piped.stderr).not.toMatch(BAR);
    expect(piped.stdout).not.toMatch(COLOUR);
    expect(forced.stderr).toMatch(BAR);
    expect(forced.stdout).not.toMatch(BAR);
  });
});
