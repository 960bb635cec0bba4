/**
 * Unexpected errors as one line for the operator: what failed and, for the common causes
 * (the stack is not running, no credentials), what to do.
 */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message || error.name : String(error);
  const name = error instanceof Error ? error.name : '';
  const code = errorCode(error);
  if ((code && UNREACHABLE.has(code)) || name === 'TimeoutError') {
    return `cannot reach the stack: ${message} (is it running? the local one starts with \`npm start\`)`;
  }
  if (name === 'CredentialsProviderError') {
    return `no AWS credentials: ${message} (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`;
  }
  if (name === 'ResourceNotFoundException' || name === 'StateMachineDoesNotExist') {
    return `${message} (the stage's resources are gone: redeploy it, or pass --refresh)`;
  }
  return message.split('\n')[0] ?? message;
}
