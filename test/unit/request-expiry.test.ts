/**
 * A request lives no longer than its acknowledgement window, so "no response" means "did not and
 * will not run": dispatch stamps the expiry, plan sizes the wait after it, and agents refuse to
 * remember requests for less than the longest of them.
 */
import { describe, expect, it } from 'vitest';
import { buildSignedRequest } from '#functions/run/dispatch-batch.ts';
import { parseRunRequest } from '#functions/run/plan-run.ts';
import {
  ackWindowSec,
  MAX_REQUEST_LIFETIME_SEC,
  MIN_DEDUPE_HORIZON_SEC,
  REQUEST_CLOCK_SKEW_SEC,
} from '#shared/request-expiry.ts';
import { agentConfigSchema } from '#agent/setup/config-schema.ts';
import { buildTargetTree } from '#shared/target-tree.ts';
import { runMetaItem } from '../helpers/factories.ts';

const DISPATCHED_AT = 1_700_000_000_000;
const ONE_TARGET = buildTargetTree(['i-1']).tree;
const options = { timeoutSec: 60, discoveryTimeoutSec: 2, batchSleepSec: 0, staleAfterHeartbeats: 3 };

describe('request expiry', () => {
  it('defaults to the end of the acknowledgement window: dispatch + discovery timeout + the skew allowance', () => {
    const request = buildSignedRequest(runMetaItem({ options }), 0, ONE_TARGET, DISPATCHED_AT);

    expect(request.issuedAt).toBe(DISPATCHED_AT);
    expect(request.expiresAt).toBe(DISPATCHED_AT + (2 + REQUEST_CLOCK_SKEW_SEC) * 1000);
  });

  it('lets a --ttl shorten the life of a request', () => {
    const request = buildSignedRequest(runMetaItem({ options: { ...options, ttlSec: 1 } }), 0, ONE_TARGET, 0);

    expect(request.expiresAt).toBe(1_000);
  });

  it('never lets a stored ttl lengthen it past the window (runs planned before the rule)', () => {
    const request = buildSignedRequest(
      runMetaItem({ options: { ...options, ttlSec: 600 } }),
      0,
      ONE_TARGET,
      0,
    );

    expect(request.expiresAt).toBe((2 + REQUEST_CLOCK_SKEW_SEC) * 1000);
  });

  it('waits for acks until after the last moment an agent within the skew allowance could take it', () => {
    expect(ackWindowSec({ discoveryTimeoutSec: 2 })).toBe(2 + 2 * REQUEST_CLOCK_SKEW_SEC);
  });

  it('refuses a run whose ttl outlives its window, whoever starts it (plan checks too)', () => {
    expect(() =>
      parseRunRequest({
        runId: '01JH00000000000000000000AA',
        command: { shell: 'uptime' },
        options: { discoveryTimeoutSec: 2, ttlSec: 120 },
      }),
    ).toThrow(/ttl 120 s is longer than the acknowledgement window/);
  });
});

describe('the agent dedupe horizon', () => {
  it('is never shorter than the longest request lifetime', () => {
    expect(MIN_DEDUPE_HORIZON_SEC).toBeGreaterThan(MAX_REQUEST_LIFETIME_SEC);
  });

  it('refuses a configured max age below it, saying why', () => {
    const parsed = agentConfigSchema.safeParse({
      stage: 'dev',
      replies_queue_url: 'http://127.0.0.1:1/q',
      public_key: 'k',
      dedupe: { max_entries: 1000, max_age_sec: 600 },
    });

    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toContainEqual(
      expect.stringMatching(/^must be at least 3602: a request can be delivered for up to 3601 s/),
    );
  });
});
