/** Errors of the local Step Functions API, named as AWS names them. */

/** An API error with the `__type` the AWS SDK maps to an exception class. */
export class SfnApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

/**
 * Step Functions' payload quota: 256 KiB (262,144 bytes of UTF-8) for an execution's input, a
 * state's input or output, and SendTaskSuccess's output.
 */
export const MAX_PAYLOAD_BYTES = 262_144;

/** Refuses a request parameter over the payload quota, as the API does (`ValidationException`). */
export function checkPayloadParameter(name: string, value: string): void {
  if (Buffer.byteLength(value, 'utf8') > MAX_PAYLOAD_BYTES) {
    throw new SfnApiError(
      'ValidationException',
      `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_PAYLOAD_BYTES}`,
    );
  }
}
