// Deterministic validation of FhirImportInput, run by the workflow before any activity: every
// field is checked against HealthLake's modelled constraints or our own rules, and each problem is
// reported with the field, the value and the rule.
import type { LandingManifest, LandingManifestRef } from './manifest';
import {
  DEFAULT_POLL_POLICY,
  ValidationLevel,
  type CompletedWithErrorsPolicy,
  type FhirImportInput,
  type PollPolicy,
} from './types';

/** One broken rule in an import input. Holds only ids, URIs and settings, never resource content. */
export class FhirImportInputError extends Error {
  override readonly name = 'FhirImportInputError';
  constructor(
    /** Dotted path, e.g. `pollPolicy.maxDelayMs`. */
    readonly field: string,
    /** The offending value, printed for the message only when `printed` is `value`. */
    readonly value: unknown,
    /** The rule it breaks, e.g. `must match s3://<bucket>/<prefix>`. */
    readonly rule: string,
    /**
     * `value`: a field this validator knows (an id, URI, ARN, setting), printed shortened;
     * `type`: anything else (an unknown field, a misplaced object), named by its type only, so a
     * resource passed by mistake is never echoed into a failure message.
     */
    readonly printed: 'value' | 'type' = 'value',
  ) {
    super(`input.${field} ${printValue(value, printed)} ${rule}`);
  }
}

/** A validated input with every default filled in. */
export interface ResolvedFhirImportInput extends FhirImportInput {
  readonly pollPolicy: PollPolicy;
  readonly completedWithErrors: CompletedWithErrorsPolicy;
  readonly reconciliation: 'report' | 'strict';
  /** `deadline` as epoch ms, when set. */
  readonly deadlineMs?: number;
}

export type FhirImportInputValidation =
  | { readonly ok: true; readonly input: ResolvedFhirImportInput }
  | { readonly ok: false; readonly errors: readonly FhirImportInputError[] };

/** Longest printed value: enough for ids, ARNs and most URIs, too short for a resource. */
const MAX_PRINTED_VALUE_CHARS = 100;

function printValue(value: unknown, printed: 'value' | 'type'): string {
  if (value === undefined) return '(missing)';
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  // Only strings, numbers and booleans of known fields are printed; objects, arrays never.
  let text: string;
  if (printed === 'type') return `(${type})`;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value);
  else return `(${type})`;
  return text.length > MAX_PRINTED_VALUE_CHARS ? `${text.slice(0, MAX_PRINTED_VALUE_CHARS)}…` : text;
}

// HealthLake's modelled patterns (see shared/reference/healthlake-api.md).
const ID_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-%@]*$/u;
const S3_URI_PATTERN = /^s3:\/\/[a-z0-9][.\-a-z0-9]{1,61}[a-z0-9](\/.*)?$/;
const ROLE_ARN_PATTERN = /^arn:aws(-[^:]+)?:iam::[0-9]{12}:role\/.+$/;
const KMS_KEY_PATTERN =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias\/[a-zA-Z0-9/_-]+|arn:aws(-[^:]+)?:kms:[a-z0-9-]+:[0-9]{12}:(key\/.+|alias\/[a-zA-Z0-9/_-]+))$/;
// ISO-8601 instant with an explicit zone, so the deadline means the same on every worker.
const ISO_INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const INPUT_FIELDS: ReadonlySet<string> = new Set<keyof FhirImportInput>([
  'datastoreId',
  'inputS3Uri',
  'outputS3Uri',
  'kmsKeyId',
  'dataAccessRoleArn',
  'jobName',
  'validationLevel',
  'pollPolicy',
  'deadline',
  'completedWithErrors',
  'existingJobId',
  'manifest',
  'reconciliation',
  'apiTaskQueue',
]);

/** Bounds of each poll-policy number: [min, max], and whether it must be an integer. */
const POLL_POLICY_BOUNDS: Readonly<Record<keyof PollPolicy, readonly [number, number, boolean]>> = {
  initialDelayMs: [0, 86_400_000, true],
  minDelayMs: [1, 86_400_000, true],
  maxDelayMs: [1, 86_400_000, true],
  multiplier: [1, 10, false],
  jitter: [0, 0.99, false],
  queuedDelayMs: [1, 86_400_000, true],
  attemptTimeoutMs: [100, 3_600_000, true],
  inAttemptWaitMaxMs: [0, 60_000, true],
  maxProgressMilestones: [0, 100, true],
};

type Check = (errors: FhirImportInputError[]) => void;

function checkString(
  input: Record<string, unknown>,
  field: string,
  required: boolean,
  minLength: number,
  maxLength: number,
  pattern: RegExp,
  patternRule: string,
): Check {
  return (errors) => {
    const value = input[field];
    if (value === undefined) {
      if (required) errors.push(new FhirImportInputError(field, value, 'is required'));
      return;
    }
    if (typeof value !== 'string') {
      errors.push(new FhirImportInputError(field, value, 'must be a string'));
    } else if (value.length < minLength || value.length > maxLength) {
      errors.push(
        new FhirImportInputError(field, value, `must be ${minLength}-${maxLength} characters long`),
      );
    } else if (!pattern.test(value)) {
      errors.push(new FhirImportInputError(field, value, patternRule));
    }
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function resolvePollPolicy(value: unknown, errors: FhirImportInputError[]): PollPolicy {
  if (value === undefined) return DEFAULT_POLL_POLICY;
  if (!isRecord(value)) {
    errors.push(new FhirImportInputError('pollPolicy', value, 'must be an object'));
    return DEFAULT_POLL_POLICY;
  }
  const resolved: Record<string, number> = { ...DEFAULT_POLL_POLICY };
  for (const [key, setting] of Object.entries(value)) {
    const bounds = POLL_POLICY_BOUNDS[key as keyof PollPolicy] as
      readonly [number, number, boolean] | undefined;
    if (!bounds) {
      errors.push(
        new FhirImportInputError(
          `pollPolicy.${key}`,
          setting,
          `is not a poll policy setting (known: ${Object.keys(POLL_POLICY_BOUNDS).join(', ')})`,
          'type',
        ),
      );
      continue;
    }
    const [min, max, integer] = bounds;
    if (typeof setting !== 'number' || !Number.isFinite(setting) || setting < min || setting > max) {
      errors.push(
        new FhirImportInputError(`pollPolicy.${key}`, setting, `must be a number from ${min} to ${max}`),
      );
    } else if (integer && !Number.isInteger(setting)) {
      errors.push(new FhirImportInputError(`pollPolicy.${key}`, setting, 'must be a whole number'));
    } else {
      resolved[key] = setting;
    }
  }
  const policy = resolved as unknown as PollPolicy;
  if (policy.maxDelayMs < policy.minDelayMs) {
    errors.push(
      new FhirImportInputError(
        'pollPolicy.maxDelayMs',
        policy.maxDelayMs,
        `must be at least pollPolicy.minDelayMs (${policy.minDelayMs})`,
      ),
    );
  }
  return policy;
}

function resolveErrorPolicy(value: unknown, errors: FhirImportInputError[]): CompletedWithErrorsPolicy {
  const fallback: CompletedWithErrorsPolicy = { mode: 'succeed-with-warnings' };
  if (value === undefined) return fallback;
  if (!isRecord(value)) {
    errors.push(new FhirImportInputError('completedWithErrors', value, 'must be an object'));
    return fallback;
  }
  if (value.mode === 'succeed-with-warnings') return fallback;
  if (value.mode !== 'fail-above-error-rate') {
    errors.push(
      new FhirImportInputError(
        'completedWithErrors.mode',
        value.mode,
        'must be "succeed-with-warnings" or "fail-above-error-rate"',
      ),
    );
    return fallback;
  }
  const rate = value.maxErrorRate;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    errors.push(
      new FhirImportInputError('completedWithErrors.maxErrorRate', rate, 'must be a number from 0 to 1'),
    );
    return fallback;
  }
  return { mode: 'fail-above-error-rate', maxErrorRate: rate };
}

function checkManifest(manifest: unknown, inputS3Uri: unknown, errors: FhirImportInputError[]): void {
  if (manifest === undefined) return;
  if (!isRecord(manifest)) {
    errors.push(new FhirImportInputError('manifest', manifest, 'must be a LandingManifest object'));
    return;
  }
  const m = manifest as Partial<LandingManifest>;
  if (typeof m.s3Uri !== 'string' || !S3_URI_PATTERN.test(m.s3Uri)) {
    errors.push(new FhirImportInputError('manifest.s3Uri', m.s3Uri, 'must match s3://<bucket>/<prefix>'));
  } else if (typeof inputS3Uri === 'string' && trimSlash(m.s3Uri) !== trimSlash(inputS3Uri)) {
    errors.push(
      new FhirImportInputError('manifest.s3Uri', m.s3Uri, `must equal input.inputS3Uri (${inputS3Uri})`),
    );
  }
  if (m.objects === undefined && 'manifestS3Uri' in manifest) {
    checkManifestRef(manifest, errors);
    return;
  }
  if (!Array.isArray(m.objects)) {
    errors.push(new FhirImportInputError('manifest.objects', m.objects, 'must be an array'));
    return;
  }
  let bytes = 0;
  let lines = 0;
  m.objects.forEach((object: unknown, index) => {
    const o = isRecord(object) ? object : {};
    if (typeof o.key !== 'string' || o.key === '') {
      errors.push(
        new FhirImportInputError(`manifest.objects[${index}].key`, o.key, 'must be a non-empty string'),
      );
    }
    for (const field of ['sizeBytes', 'lines'] as const) {
      if (!isNonNegativeInteger(o[field])) {
        errors.push(
          new FhirImportInputError(
            `manifest.objects[${index}].${field}`,
            o[field],
            'must be a whole number ≥ 0',
          ),
        );
      }
    }
    bytes += typeof o.sizeBytes === 'number' ? o.sizeBytes : 0;
    lines += typeof o.lines === 'number' ? o.lines : 0;
  });
  const totals = [
    ['totalObjects', m.totalObjects, m.objects.length, 'the number of objects'],
    ['totalBytes', m.totalBytes, bytes, 'the sum of objects[].sizeBytes'],
    ['totalLines', m.totalLines, lines, 'the sum of objects[].lines'],
  ] as const;
  for (const [field, value, expected, what] of totals) {
    if (value !== expected) {
      errors.push(new FhirImportInputError(`manifest.${field}`, value, `must equal ${what} (${expected})`));
    }
  }
}

/** A manifest kept in S3 (LandingManifestRef): the totals cannot be summed here, only checked. */
function checkManifestRef(m: Partial<LandingManifestRef>, errors: FhirImportInputError[]): void {
  if (typeof m.manifestS3Uri !== 'string' || !S3_URI_PATTERN.test(m.manifestS3Uri)) {
    errors.push(
      new FhirImportInputError('manifest.manifestS3Uri', m.manifestS3Uri, 'must match s3://<bucket>/<key>'),
    );
  }
  if (typeof m.manifestSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.manifestSha256)) {
    errors.push(
      new FhirImportInputError(
        'manifest.manifestSha256',
        m.manifestSha256,
        'must be 64 lower-case hex digits',
      ),
    );
  }
  for (const field of ['totalObjects', 'totalBytes', 'totalLines'] as const) {
    if (!isNonNegativeInteger(m[field])) {
      errors.push(new FhirImportInputError(`manifest.${field}`, m[field], 'must be a whole number ≥ 0'));
    }
  }
}

function trimSlash(uri: string): string {
  return uri.replace(/\/+$/, '');
}

/**
 * Validates an import input and fills in defaults. Deterministic: `nowMs` is the workflow's clock
 * (a deadline must lie after it). Returns every broken rule, not only the first.
 */
export function validateFhirImportInput(raw: unknown, nowMs: number): FhirImportInputValidation {
  const errors: FhirImportInputError[] = [];
  if (!isRecord(raw)) {
    return {
      ok: false,
      errors: [new FhirImportInputError('', raw, 'must be a FhirImportInput object', 'type')],
    };
  }
  for (const key of Object.keys(raw)) {
    if (!INPUT_FIELDS.has(key)) {
      errors.push(new FhirImportInputError(key, raw[key], 'is not a FhirImportInput field', 'type'));
    }
  }
  const idRule = 'must contain only letters, digits, spaces and _.:/=+-%@';
  const s3Rule = 'must match s3://<bucket>/<prefix> (bucket: 3-63 lowercase letters, digits, dots, hyphens)';
  const checks: Check[] = [
    checkString(raw, 'datastoreId', true, 1, 32, ID_PATTERN, idRule),
    checkString(raw, 'inputS3Uri', true, 1, 1024, S3_URI_PATTERN, s3Rule),
    checkString(raw, 'outputS3Uri', true, 1, 1024, S3_URI_PATTERN, s3Rule),
    checkString(
      raw,
      'kmsKeyId',
      true,
      1,
      400,
      KMS_KEY_PATTERN,
      'must be a KMS key id, mrk- key id, key ARN, alias/<name> or alias ARN',
    ),
    checkString(
      raw,
      'dataAccessRoleArn',
      true,
      20,
      2048,
      ROLE_ARN_PATTERN,
      'must match arn:aws:iam::<12-digit account>:role/<name>',
    ),
    checkString(raw, 'jobName', false, 1, 64, ID_PATTERN, idRule),
    checkString(raw, 'existingJobId', false, 1, 32, ID_PATTERN, idRule),
    checkString(raw, 'apiTaskQueue', false, 1, 1000, /^\S+$/, 'must not contain whitespace'),
  ];
  for (const check of checks) check(errors);

  const levels: readonly unknown[] = Object.values(ValidationLevel);
  if (raw.validationLevel !== undefined && !levels.includes(raw.validationLevel)) {
    errors.push(
      new FhirImportInputError('validationLevel', raw.validationLevel, `must be one of ${levels.join(', ')}`),
    );
  }

  let deadlineMs: number | undefined;
  if (raw.deadline !== undefined) {
    const parsed = typeof raw.deadline === 'string' ? Date.parse(raw.deadline) : NaN;
    if (typeof raw.deadline !== 'string' || !ISO_INSTANT_PATTERN.test(raw.deadline) || Number.isNaN(parsed)) {
      errors.push(
        new FhirImportInputError(
          'deadline',
          raw.deadline,
          'must be an ISO-8601 instant with a zone, e.g. 2030-01-01T00:00:00Z',
        ),
      );
    } else if (parsed <= nowMs) {
      errors.push(
        new FhirImportInputError(
          'deadline',
          raw.deadline,
          `must be after the workflow start (${new Date(nowMs).toISOString()})`,
        ),
      );
    } else {
      deadlineMs = parsed;
    }
  }

  const pollPolicy = resolvePollPolicy(raw.pollPolicy, errors);
  const completedWithErrors = resolveErrorPolicy(raw.completedWithErrors, errors);
  checkManifest(raw.manifest, raw.inputS3Uri, errors);

  const reconciliation = raw.reconciliation ?? 'report';
  if (reconciliation !== 'report' && reconciliation !== 'strict') {
    errors.push(
      new FhirImportInputError('reconciliation', raw.reconciliation, 'must be "report" or "strict"'),
    );
  } else if (reconciliation === 'strict' && raw.manifest === undefined) {
    errors.push(
      new FhirImportInputError('reconciliation', reconciliation, 'needs input.manifest to reconcile against'),
    );
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      ...(raw as unknown as FhirImportInput),
      pollPolicy,
      completedWithErrors,
      reconciliation: reconciliation as 'report' | 'strict',
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
    },
  };
}
