import { describe, expect, it } from 'vitest';
import { stepErrorOf } from '#functions/finish.ts';

describe('the finish step’s RunErrors line', () => {
  it('is logged for a step failure handed over by FinishFailed', () => {
    expect(stepErrorOf({ runId: 'r1', error: { Error: 'Lambda.ServiceException', Cause: 'boom' } })).toEqual({
      runId: 'r1',
      error: 'Lambda.ServiceException',
    });
  });

  it('is not logged for a run that completed, whatever its hosts did', () => {
    // Finish's input on the normal path is the run id only; failed hosts are in the run's record.
    expect(stepErrorOf({ runId: 'r1' })).toBeUndefined();
  });
});
