import { describe, expect, it } from 'vitest';
import { stageNameProblem } from '#shared/stage-config.ts';

describe('stageNameProblem', () => {
  it.each(['ci', 'prod', 'node', 'node-a', 'nodes-x', 'ci-nodes', 'ci-nodex-2', 'a'.repeat(21)])(
    'accepts %j',
    (stage) => {
      expect(stageNameProblem(stage)).toBeUndefined();
    },
  );

  it.each(['', 'Prod', '1ci', 'ci_x', '../etc', 'a'.repeat(22)])(
    'refuses %j by its characters or length',
    (stage) => {
      expect(stageNameProblem(stage)).toBe(
        'lowercase letters, digits and dashes, starting with a letter, at most 21 characters',
      );
    },
  );

  it.each(['ci-node', 'ci-node-x', 'a-b-node-c', 'node-node'])(
    "refuses %j: its queues would match another stage's drover-<stage>-node-* inbox pattern",
    (stage) => {
      expect(stageNameProblem(stage)).toMatch(/^no "-node" segment after the first/);
    },
  );
});
