/**
 * Finds the stack the CLI talks to and builds its AWS clients: the local stack from
 * `.drover/local.json` (deployed stages come with the deploy work).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createDynamoClient, createSfnClient } from '#shared/aws.ts';
import { LocalStackNotRunning, readLocalStackFile } from '#shared/local-stack-file.ts';
import { CliError } from './errors.ts';

export interface StackConnection {
  stage: string;
  runStateMachineArn: string;
  runsTable: string;
  nodesTable: string;
  db: DynamoDBDocumentClient;
  sfn: SFNClient;
  close(): void;
}

export function connectStack(home: string, stage: string | undefined): StackConnection {
  if (stage !== undefined && stage !== 'local') {
    throw new CliError(
      `stage "${stage}" is not reachable: this version of drover talks to the local stack only (drop --stage, or use --stage local)`,
    );
  }
  let file;
  try {
    file = readLocalStackFile(home);
  } catch (error: unknown) {
    if (error instanceof LocalStackNotRunning) throw new CliError(error.message, 4, { cause: error });
    throw error;
  }
  const options = { region: file.region, endpoints: file.endpoints, credentials: file.credentials };
  const db = createDynamoClient(options);
  const sfn = createSfnClient(options);
  const run = file.stateMachines.run;
  if (!run) throw new CliError(`the local stack has no "run" state machine: restart it with \`npm start\``);
  return {
    stage: file.stage,
    runStateMachineArn: run,
    runsTable: file.runsTable,
    nodesTable: file.nodesTable,
    db,
    sfn,
    close() {
      db.destroy();
      sfn.destroy();
    },
  };
}
