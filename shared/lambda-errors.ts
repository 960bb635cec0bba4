/**
 * Lambda reports a function's error to Step Functions as a JSON cause
 * (`{"errorType","errorMessage","trace"}`); operators want the message.
 */
export function describeLambdaCause(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is already the message.
  }
  return cause;
}
