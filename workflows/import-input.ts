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
const ISO_INSTANT_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

/**
 * The calendar rule an ISO instant that matches {@link ISO_INSTANT_PATTERN} breaks, if any. JS
 * `Date.parse` rolls some impossible dates over (`2030-02-30` becomes March 2) and refuses others,
 * so the fields are checked one by one.
 */
function impossibleInstant(value: string): string | undefined {
  const [, y, mo, d, h, mi, se, oh, om] = ISO_INSTANT_PATTERN.exec(value)!.map((part) =>
    part === undefined ? undefined : Number(part),
  );
  const year = y!;
  const month = mo!;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month < 1 || month > 12) return `month ${mo} does not exist (01-12)`;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (d! < 1 || d! > days)
    return `day ${d} does not exist in ${MONTH_NAMES[month - 1]} ${year} (it has ${days} days)`;
  if (h! > 23) return `hour ${h} does not exist (00-23)`;
  if (mi! > 59) return `minute ${mi} does not exist (00-59)`;
  if (se !== undefined && se > 59) return `second ${se} does not exist (00-59)`;
  if (oh !== undefined && (oh > 23 || om! > 59))
    return 'zone offset does not exist (hours 00-23, minutes 00-59)';
  return undefined;
}

/**
 * Patch id of the input rules added after release 18a8820: input and output S3 locations must not
 * overlap, and a deadline must be a real calendar instant. The workflow marks the patch only when
 * one of them rejects an input the old rules accepted, so a valid import's history has no marker.
 */
export const INPUT_RULES_PATCH = 'fhir-import-input-s3-overlap-calendar-deadline';

/** Options of {@link validateFhirImportInput}. */
export interface FhirImportInputValidationOptions {
  /**
   * Apply the rules of {@link INPUT_RULES_PATCH}. Off only when the workflow replays a history
   * recorded before them (an import already running with such an input keeps running).
   * @default true
   */
  readonly rulesSince18a8820?: boolean;
}

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
  'fairnessKey',
]);

/** Bounds of each poll-policy number: [min, max], and whether it must be an integer. */
const POLL_POLICY_BOUNDS: Readonly<Required<Record<keyof PollPolicy, readonly [number, number, boolean]>>> = {
  initialDelayMs: [0, 86_400_000, true],
  minDelayMs: [1, 86_400_000, true],
  maxDelayMs: [1, 86_400_000, true],
  multiplier: [1, 10, false],
  jitter: [0, 0.99, false],
  queuedDelayMs: [1, 86_400_000, true],
  attemptTimeoutMs: [100, 3_600_000, true],
  inAttemptWaitMaxMs: [0, 60_000, true],
  maxProgressMilestones: [0, 100, true],
  reportRefreshMs: [0, 3_600_000, true],
  etaFraction: [0.01, 1, false],
  progressIntervalMs: [1, 86_400_000, true],
  eventSafetyNetDelayMs: [1, 86_400_000, true],
  awaitFirstEventMs: [1, 3_600_000, true],
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

/** `s3://bucket/prefix` as `bucket/prefix/`: one trailing slash, so a prefix test means "inside". */
function s3Folder(uri: string): string {
  return `${trimSlash(uri.slice('s3://'.length))}/`;
}

/**
 * HealthLake writes SUCCESS/FAILURE files and manifest.json under the output location: inside the
 * input prefix the next import of that prefix reads them as input; an input inside the output
 * location reads an earlier import's output. Both fields are named.
 */
function checkS3Overlap(inputS3Uri: string, outputS3Uri: string, errors: FhirImportInputError[]): void {
  const input = s3Folder(inputS3Uri);
  const output = s3Folder(outputS3Uri);
  const why = '(HealthLake writes its output files where an import of the input location reads them)';
  const other = (field: string, value: string) => `input.${field} ${printValue(value, 'value')}`;
  if (input === output) {
    errors.push(
      new FhirImportInputError(
        'outputS3Uri',
        outputS3Uri,
        `must not equal ${other('inputS3Uri', inputS3Uri)} ${why}`,
      ),
    );
  } else if (output.startsWith(input)) {
    errors.push(
      new FhirImportInputError(
        'outputS3Uri',
        outputS3Uri,
        `must not be inside ${other('inputS3Uri', inputS3Uri)} ${why}`,
      ),
    );
  } else if (input.startsWith(output)) {
    errors.push(
      new FhirImportInputError(
        'inputS3Uri',
        inputS3Uri,
        `must not be inside ${other('outputS3Uri', outputS3Uri)} ${why}`,
      ),
    );
  }
}

/** Characters HealthLake allows in a job name; anything else becomes `-`. */
const JOB_NAME_DISALLOWED = /[^\p{L}\p{Z}\p{N}_.:/=+\-%@]/gu;
/** HealthLake's JobName limit, in characters. */
export const MAX_JOB_NAME_CHARS = 64;
/** Hex digits of the identity tag at the end of every job name (64 bits of FNV-1a). */
export const JOB_NAME_TAG_HEX_CHARS = 16;

/** FNV-1a, 64 bit, over the UTF-8 bytes of `text`: deterministic, no Node built-ins (workflow code). */
function fnv1a64Hex(text: string): string {
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  let hash = 0xcbf29ce484222325n;
  const mix = (byte: number): void => {
    hash = ((hash ^ BigInt(byte)) * prime) & mask;
  };
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    if (cp < 0x80) mix(cp);
    else if (cp < 0x800) [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)].forEach(mix);
    else if (cp < 0x10000) [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].forEach(mix);
    else
      [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)].forEach(
        mix,
      );
  }
  return hash.toString(16).padStart(JOB_NAME_TAG_HEX_CHARS, '0');
}

/** The first `maxChars` UTF-16 units of `text`, never splitting a surrogate pair. */
function truncateChars(text: string, maxChars: number): string {
  let out = '';
  for (const char of text) {
    if (out.length + char.length > maxChars) break;
    out += char;
  }
  return out;
}

/**
 * The HealthLake JobName of an import: a readable part (the caller's `jobName`, else the workflow
 * id with characters HealthLake refuses replaced by `-`), cut to fit, then `-` and a 16-hex tag
 * of the import's identity (`<namespace>/<workflowId>`). The tag makes the name an identity: the
 * start activity reattaches only to a job with exactly this name, so two imports with the same
 * `jobName` (or with workflow ids that clean to the same text, `batch(1)` and `batch[1]`) never
 * share a job, while every retry, crash recovery and re-run under the same caller key (same
 * workflow id) finds its own. At most 64 characters, within HealthLake's JobName pattern.
 *
 * @example importJobName('nightly', 'default', 'fhir-import-batch-7') // 'nightly-3f0c…' (16 hex)
 */
export function importJobName(jobName: string | undefined, namespace: string, workflowId: string): string {
  const readable = jobName ?? workflowId.replace(JOB_NAME_DISALLOWED, '-');
  const tag = fnv1a64Hex(`${namespace}/${workflowId}`);
  return `${truncateChars(readable, MAX_JOB_NAME_CHARS - tag.length - 1)}-${tag}`;
}

/**
 * Validates an import input and fills in defaults. Deterministic: `nowMs` is the workflow's clock
 * (a deadline must lie after it). Returns every broken rule, not only the first.
 */
export function validateFhirImportInput(
  raw: unknown,
  nowMs: number,
  options: FhirImportInputValidationOptions = {},
): FhirImportInputValidation {
  const newRules = options.rulesSince18a8820 ?? true;
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
    checkString(raw, 'fairnessKey', false, 1, 64, /^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
  ];
  for (const check of checks) check(errors);
  if (newRules && !errors.some((e) => e.field === 'inputS3Uri' || e.field === 'outputS3Uri')) {
    checkS3Overlap(raw.inputS3Uri as string, raw.outputS3Uri as string, errors);
  }

  const levels: readonly unknown[] = Object.values(ValidationLevel);
  if (raw.validationLevel !== undefined && !levels.includes(raw.validationLevel)) {
    errors.push(
      new FhirImportInputError('validationLevel', raw.validationLevel, `must be one of ${levels.join(', ')}`),
    );
  }

  let deadlineMs: number | undefined;
  if (raw.deadline !== undefined) {
    const parsed = typeof raw.deadline === 'string' ? Date.parse(raw.deadline) : NaN;
    const wellFormed = typeof raw.deadline === 'string' && ISO_INSTANT_PATTERN.test(raw.deadline);
    const impossible = newRules && wellFormed ? impossibleInstant(raw.deadline as string) : undefined;
    if (impossible !== undefined) {
      errors.push(
        new FhirImportInputError('deadline', raw.deadline, `must be a real date and time: ${impossible}`),
      );
    } else if (!wellFormed || Number.isNaN(parsed)) {
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
