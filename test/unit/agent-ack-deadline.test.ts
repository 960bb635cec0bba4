/**
 * When an ack goes out at the latest, started or not: two seconds after receipt when the request's
 * window is roomy, never past half of what is left of it (less the clock-skew second), and never
 * sooner than the ack delay.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ACK_LATEST_MS, ackDeadlineMs } from '#agent/agent.ts';
import { REQUEST_CLOCK_SKEW_SEC } from '#shared/request-expiry.ts';

const NOW = 1_800_000_000_000;
const SKEW_MS = REQUEST_CLOCK_SKEW_SEC * 1000;

describe('ackDeadlineMs', () => {
  it('is ACK_LATEST_MS for the default 10 s window', () => {
    expect(ackDeadlineMs(NOW + 11_000, NOW, 250)).toBe(ACK_LATEST_MS);
  });

  it('is half the window left (less the skew second) when that is shorter', () => {
    expect(ackDeadlineMs(NOW + 3_000, NOW, 250)).toBe(1_000);
  });

  it('is the ack delay when the window is nearly over, or over', () => {
    expect(ackDeadlineMs(NOW + 1_100, NOW, 250)).toBe(250);
    expect(ackDeadlineMs(NOW - 5_000, NOW, 250)).toBe(250);
  });

  it('never leaves less than half the window, nor goes below the delay or above the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10_000, max: 3_700_000 }),
        fc.integer({ min: 0, max: 500 }),
        (left, delay) => {
          const deadline = ackDeadlineMs(NOW + left, NOW, delay);
          expect(deadline).toBeGreaterThanOrEqual(delay);
          expect(deadline).toBeLessThanOrEqual(Math.max(delay, ACK_LATEST_MS));
          // Beyond the delay (what acks always waited), the ack keeps half the window as margin.
          if (deadline > delay) expect(deadline).toBeLessThanOrEqual((left - SKEW_MS) / 2);
        },
      ),
    );
  });
});
