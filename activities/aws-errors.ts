// What an error thrown by a HealthLake (or S3) SDK call means: fail at once, retry with backoff,
// or the call was aborted because the activity was cancelled. Pure: it reads only the error.
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ImportFailureType } from '../workflows/types';

/** The decision for one error. `type` is the AWS error name (or the network error code). */
export type AwsErrorClass =
  | { readonly kind: 'fail'; readonly type: string; readonly message: string }
  | { readonly kind: 'retry'; readonly type: string; readonly message: string }
  | { readonly kind: 'aborted'; readonly message: string };

/** AWS errors that no retry can fix: the request, the permissions or the target is wrong. */
const FAIL_FAST_NAMES: ReadonlySet<string> = new Set([
  ImportFailureType.ValidationException,
  ImportFailureType.AccessDeniedException,
  ImportFailureType.ResourceNotFoundException,
  // Conflict: the resource is in a state the request contradicts (for example a ClientToken reused
  // with a different request). Retrying the same request meets the same state, so it fails fast.
  ImportFailureType.ConflictException,
]);

/** AWS errors that go away with time. */
const RETRY_NAMES: ReadonlySet<string> = new Set([
  ImportFailureType.ThrottlingException,
  ImportFailureType.InternalServerException,
  // Newer HealthLake model (botocore 1.44), Start*Job: a service the job depends on (S3, KMS, IAM)
  // failed to answer. The request itself was valid (bad input is ValidationException, missing
  // permissions AccessDeniedException), so the same request can succeed later; the start is
  // idempotent by ClientToken, and the activity's retry policy and the import's deadline bound it.
  'FailedDependencyException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Node/undici network error codes that mean "the connection failed, try again". */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

interface ErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $fault?: unknown;
  readonly cause?: unknown;
}

function shapeOf(err: unknown): ErrorShape {
  return typeof err === 'object' && err !== null ? err : {};
}

/**
 * Classifies an error from an AWS SDK call.
 *
 * - ValidationException, AccessDeniedException, ResourceNotFoundException, ConflictException and any
 *   other 4xx → `fail` with the AWS name as the type;
 * - ThrottlingException (any status), InternalServerException, FailedDependencyException, any 5xx, SDK timeouts and network
 *   errors → `retry`;
 * - an `AbortError` (the activity's cancellation signal) → `aborted`;
 * - anything else (a bug, not a service answer) → `fail` under its own name: never retried blindly.
 */
export function classifyAwsError(err: unknown): AwsErrorClass {
  const shape = shapeOf(err);
  const name = typeof shape.name === 'string' ? shape.name : 'Error';
  const message = typeof shape.message === 'string' && shape.message !== '' ? shape.message : String(err);
  if (name === 'AbortError') return { kind: 'aborted', message };
  if (FAIL_FAST_NAMES.has(name)) return { kind: 'fail', type: name, message };
  if (RETRY_NAMES.has(name)) return { kind: 'retry', type: name, message };
  const code = networkCode(err);
  if (code !== undefined) return { kind: 'retry', type: code, message };
  const status = shape.$metadata?.httpStatusCode;
  if (typeof status === 'number') {
    if (status === 429 || status >= 500) return { kind: 'retry', type: name, message };
    if (status >= 400) return { kind: 'fail', type: name, message };
  }
  if (shape.$fault === 'server') return { kind: 'retry', type: name, message };
  if (shape.$fault === 'client') return { kind: 'fail', type: name, message };
  return { kind: 'fail', type: name, message };
}

/** The network error code of `err` or of one of its causes (the SDK wraps socket errors). */
function networkCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    const { code, cause } = shapeOf(current);
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = cause;
  }
  return undefined;
}

/**
 * The activity-boundary form of {@link classifyAwsError}: `fail` → non-retryable `ApplicationFailure`
 * with the AWS name as `type`; `retry` → retryable one; `aborted` → `CancelledFailure`. `operation`
 * names the call in the message, e.g. `S3 PutObject` or `StartFHIRExportJob`.
 */
export function awsErrorToFailure(err: unknown, operation: string, retryDelayMs?: number): Error {
  const decision = classifyAwsError(err);
  if (decision.kind === 'aborted') return new CancelledFailure(`${operation} aborted: activity cancelled`);
  const retryable = decision.kind !== 'fail';
  return ApplicationFailure.create({
    message: `${operation} failed with ${decision.type}: ${decision.message}`,
    type: decision.type,
    nonRetryable: !retryable,
    // Only a retryable failure carries a retry delay (throttling and 5xx back off by the poll policy).
    ...(retryable && retryDelayMs !== undefined ? { nextRetryDelay: retryDelayMs } : {}),
  });
}
