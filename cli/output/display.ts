/**
 * `--display ok|failed|all|none`: which hosts a run prints. The summary always prints.
 */
import type { NodeRunItem } from '#shared/runs-table.ts';

export const DISPLAY_CHOICES = ['ok', 'failed', 'all', 'none'] as const;
export type Display = (typeof DISPLAY_CHOICES)[number];

/** `ok`: hosts that succeeded; `failed`: every other host; `all`; `none`. */
export function isDisplayed(node: Pick<NodeRunItem, 'status'>, display: Display): boolean {
  switch (display) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'ok':
      return node.status === 'succeeded';
    case 'failed':
      return node.status !== 'succeeded';
  }
}
