// What the export and data store workflows share with the import: the HealthLake API activity
// options, input validation (the import's field rules, reused), and surfacing an activity's
// typed failure as the workflow's own.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  type ActivityOptions,
} from '@temporalio/workflow';
import { validateFhirImportInput } from './import-input';
import {
  HEALTHLAKE_API_TASK_QUEUE_SUFFIX,
  NON_RETRYABLE_IMPORT_FAILURE_TYPES,
  type PollPolicy,
} from './types';

/**
 * An activity's non-retryable failure (AccessDenied, Validation, ResourceNotFound, ...) becomes the
 * workflow's own failure with the same type and message, so callers find every failure type at
 * `WorkflowFailedError.cause` (the ActivityFailure stays as its cause).
 */
export function surfaceActivityFailure(err: unknown): unknown {
  if (!(err instanceof ActivityFailure) || !(err.cause instanceof ApplicationFailure)) return err;
  return ApplicationFailure.create({
    message: err.cause.message,
    type: err.cause.type ?? undefined,
    nonRetryable: true,
    details: err.cause.details ?? undefined,
    cause: err,
  });
}

/**
 * Options of the HealthLake API activities: on the API task queue (whose rate limit is the
 * account's budget), one attempt per `attemptTimeoutMs`, retried with the poll backoff, never
 * retrying the failure types that no retry can fix.
 */
export function healthLakeApiActivityOptions(
  workflowTaskQueue: string,
  apiTaskQueue: string | undefined,
  policy: PollPolicy,
  nonRetryable: readonly string[],
): ActivityOptions {
  return {
    taskQueue: apiTaskQueue ?? `${workflowTaskQueue}${HEALTHLAKE_API_TASK_QUEUE_SUFFIX}`,
    startToCloseTimeout: policy.attemptTimeoutMs,
    // The waits end by returning or by a cancel; TRY_CANCEL lets the workflow go on at once.
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: {
      initialInterval: policy.minDelayMs,
      backoffCoefficient: policy.multiplier,
      maximumInterval: policy.maxDelayMs,
      nonRetryableErrorTypes: [...NON_RETRYABLE_IMPORT_FAILURE_TYPES, ...nonRetryable],
    },
  };
}

/** One broken rule: the field and the message `input.<field> <value> <rule>`. */
export interface InputProblem {
  readonly field: string;
  readonly message: string;
}

/** Fields whose rules the import's validator already knows (same names, same HealthLake constraints). */
type SharedField =
  | 'datastoreId'
  | 'outputS3Uri'
  | 'kmsKeyId'
  | 'dataAccessRoleArn'
  | 'jobName'
  | 'pollPolicy'
  | 'apiTaskQueue';

/** Valid placeholders for the import fields a caller does not have (never reported). */
const PLACEHOLDERS = {
  datastoreId: '00000000000000000000000000000000',
  inputS3Uri: 's3://placeholder-bucket/in/',
  outputS3Uri: 's3://placeholder-bucket/out/',
  kmsKeyId: 'alias/placeholder',
  dataAccessRoleArn: 'arn:aws:iam::000000000000:role/placeholder',
} as const;

/**
 * Validates `raw` with the import's rules for the shared fields it names, plus `own` checks, and
 * rejects fields not in `known`. Returns the problems and the resolved poll policy.
 */
export function validateWithImportRules(
  raw: unknown,
  inputName: string,
  known: readonly string[],
  shared: readonly SharedField[],
  nowMs: number,
): { problems: InputProblem[]; pollPolicy: PollPolicy | undefined; record: Record<string, unknown> } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      problems: [{ field: '', message: `input must be a ${inputName} object` }],
      pollPolicy: undefined,
      record: {},
    };
  }
  const record = raw as Record<string, unknown>;
  const problems: InputProblem[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (!known.includes(key)) {
      const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
      // Named by type only: a resource passed by mistake is never echoed.
      problems.push({ field: key, message: `input.${key} (${type}) is not a ${inputName} field` });
    }
  }
  const probe: Record<string, unknown> = { ...PLACEHOLDERS };
  for (const field of shared)
    if (record[field] !== undefined || field in PLACEHOLDERS) probe[field] = record[field];
  const validation = validateFhirImportInput(probe, nowMs);
  if (!validation.ok)
    for (const error of validation.errors) problems.push({ field: error.field, message: error.message });
  return { problems, pollPolicy: validation.ok ? validation.input.pollPolicy : undefined, record };
}

/** The non-retryable failure for a bad input: every broken rule in one message, fields in details. */
export function invalidInputFailure(
  inputName: string,
  type: string,
  problems: readonly InputProblem[],
): ApplicationFailure {
  return ApplicationFailure.create({
    message: `invalid ${inputName}: ${problems.map((p) => p.message).join('; ')}`,
    type,
    nonRetryable: true,
    details: [{ fields: problems.map((p) => p.field) }],
  });
}

export function trimSlash(uri: string): string {
  return uri.replace(/\/+$/, '');
}
