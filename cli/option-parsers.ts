/**
 * Parsers of option values for commander: each turns the text into a value or throws a CliError
 * naming the option and what it accepts.
 */
import type { HostCount } from '#shared/messages.ts';
import { CliError } from './errors.ts';

/** A whole number ≥ min. */
export function wholeNumber(name: string, min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new CliError(
        `${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${value}"`,
      );
    }
    return n;
  };
}

/** A number of hosts (≥ min) or a share of them (`25%`). */
export function hostCount(name: string, min = 0): (value: string) => HostCount {
  return (value) => {
    const text = value.trim();
    if (/^\d+%$/.test(text)) {
      const share = Number(text.slice(0, -1));
      if (share > 100 || share < (min > 0 ? 1 : 0)) {
        throw new CliError(`${name} must be a share from ${min > 0 ? 1 : 0}% to 100%, got "${value}"`);
      }
      return `${share}%`;
    }
    if (!/^\d+$/.test(text)) {
      throw new CliError(`${name} must be a number of hosts or a share like 25%, got "${value}"`);
    }
    return wholeNumber(name, min)(text);
  };
}

/** A number ≥ 0, fractions allowed (prices, sizes). */
export function amount(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new CliError(`${name} must be a number of at least 0, got "${value}"`);
    }
    return n;
  };
}
