/**
 * Which AWS failures the agent retries (agent/backoff.ts): the SDK's own classification, with the
 * few cases it leaves out. Errors are the SDK's real exception classes.
 */
import { describe, expect, it } from 'vitest';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { KMSInternalException, NotFoundException } from '@aws-sdk/client-kms';
import { InvalidAddress, QueueDoesNotExist, SQSServiceException } from '@aws-sdk/client-sqs';
import { backoffDelay, isTransient } from '#agent/backoff.ts';
import { isMissingQueue } from '#shared/aws.ts';

const meta = (httpStatusCode?: number) => ({
  $metadata: httpStatusCode === undefined ? {} : { httpStatusCode },
});
const sqsError = (name: string, status: number | undefined, fault: 'client' | 'server') =>
  new SQSServiceException({ name, $fault: fault, message: name, ...meta(status) });
const withCode = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe('isTransient', () => {
  it.each([
    ['throttling by name (400)', sqsError('ThrottlingException', 400, 'client')],
    ['throttling by status (429)', sqsError('SomethingNew', 429, 'client')],
    [
      "DynamoDB's throughput exceeded (in the SDK's list only)",
      new ProvisionedThroughputExceededException({ message: 'slow down', ...meta(400) }),
    ],
    ['a 503', sqsError('ServiceUnavailable', 503, 'server')],
    ['any other 5xx', sqsError('Whatever', 507, 'server')],
    ['a request timeout (408 by name)', sqsError('RequestTimeout', 408, 'client')],
    [
      "KMS's internal error, without a status (emulators)",
      new KMSInternalException({ message: 'boom', $metadata: {} }),
    ],
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a connection aborted mid-request', withCode('ECONNABORTED')],
    ['a DNS failure', withCode('EAI_AGAIN')],
    ['our own timeout (AbortError)', Object.assign(new Error('aborted'), { name: 'AbortError' })],
    ['a failure nobody answered with', new Error('socket hang up')],
    ['an error marked retryable', Object.assign(sqsError('X', 400, 'client'), { $retryable: {} })],
    ['a transient cause', new Error('wrapped', { cause: withCode('ETIMEDOUT') })],
  ])('retries %s', (_what, error) => {
    expect(isTransient(error)).toBe(true);
  });

  it.each([
    ['a bad request (400)', new InvalidAddress({ message: 'bad', $metadata: { httpStatusCode: 400 } })],
    ['a missing key (400)', new NotFoundException({ message: 'no key', ...meta(400) })],
    ['a client fault without a status', sqsError('AccessDenied', undefined, 'client')],
    [
      'a missing queue (its own retry rule: isMissingQueue)',
      new QueueDoesNotExist({ message: 'gone', ...meta(400) }),
    ],
    ['something not an Error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('gives up on %s', (_what, error) => {
    expect(isTransient(error)).toBe(false);
  });

  it('names a missing queue in both protocols', () => {
    expect(isMissingQueue(new QueueDoesNotExist({ message: 'gone', ...meta(400) }))).toBe(true);
    expect(isMissingQueue(sqsError('AWS.SimpleQueueService.NonExistentQueue', 400, 'client'))).toBe(true);
    expect(isMissingQueue(sqsError('InvalidAddress', 400, 'client'))).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    expect(backoffDelay(1, 20_000, 250, () => 1)).toBe(500);
    expect(backoffDelay(3, 20_000, 250, () => 1)).toBe(2_000);
    expect(backoffDelay(30, 20_000, 250, () => 1)).toBe(20_000);
    expect(backoffDelay(3, 20_000, 250, () => 0)).toBe(0);
  });
});
