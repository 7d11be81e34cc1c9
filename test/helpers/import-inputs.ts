// Import inputs shared by the validation unit test and the workflow acceptance test: one valid
// input and a table of invalid ones, each breaking exactly one rule.
import type { FhirImportInput } from '../../workflows/types';

export const VALID_INPUT: FhirImportInput = {
  datastoreId: '0123456789abcdef0123456789abcdef',
  inputS3Uri: 's3://landing-bucket/fhir/batch-1/',
  outputS3Uri: 's3://output-bucket/imports',
  kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  dataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
};

export const VALID_MANIFEST = {
  s3Uri: 's3://landing-bucket/fhir/batch-1',
  objects: [
    { key: 'fhir/batch-1/a.ndjson', sizeBytes: 100, sha256: 'aa', lines: 2 },
    { key: 'fhir/batch-1/b.ndjson', sizeBytes: 50, sha256: 'bb', lines: 1 },
  ],
  totalObjects: 2,
  totalBytes: 150,
  totalLines: 3,
};

/** [label, overrides, expected message]. Each is exactly one broken rule. */
export const INVALID_IMPORT_INPUTS: ReadonlyArray<[string, Record<string, unknown>, string]> = [
  ['missing datastoreId', { datastoreId: undefined }, 'input.datastoreId (missing) is required'],
  [
    'datastoreId too long',
    { datastoreId: 'a'.repeat(33) },
    `input.datastoreId "${'a'.repeat(33)}" must be 1-32 characters long`,
  ],
  [
    'datastoreId bad characters',
    { datastoreId: 'abc#def' },
    'input.datastoreId "abc#def" must contain only letters, digits, spaces and _.:/=+-%@',
  ],
  [
    'inputS3Uri not s3',
    { inputS3Uri: 's3:/bucket/x' },
    'input.inputS3Uri "s3:/bucket/x" must match s3://<bucket>/<prefix> (bucket: 3-63 lowercase letters, digits, dots, hyphens)',
  ],
  [
    'outputS3Uri uppercase bucket',
    { outputS3Uri: 's3://Output/x' },
    'input.outputS3Uri "s3://Output/x" must match s3://<bucket>/<prefix> (bucket: 3-63 lowercase letters, digits, dots, hyphens)',
  ],
  [
    'kmsKeyId free text',
    { kmsKeyId: 'my key' },
    'input.kmsKeyId "my key" must be a KMS key id, mrk- key id, key ARN, alias/<name> or alias ARN',
  ],
  [
    'role ARN of a user',
    { dataAccessRoleArn: 'arn:aws:iam::123456789012:user/bob' },
    'input.dataAccessRoleArn "arn:aws:iam::123456789012:user/bob" must match arn:aws:iam::<12-digit account>:role/<name>',
  ],
  [
    'role ARN too short',
    { dataAccessRoleArn: 'arn:aws:iam::1:r' },
    'input.dataAccessRoleArn "arn:aws:iam::1:r" must be 20-2048 characters long',
  ],
  [
    'jobName too long',
    { jobName: 'j'.repeat(65) },
    `input.jobName "${'j'.repeat(65)}" must be 1-64 characters long`,
  ],
  [
    'validationLevel',
    { validationLevel: 'lenient' },
    'input.validationLevel "lenient" must be one of strict, structure-only, minimal',
  ],
  [
    'poll floor zero',
    { pollPolicy: { minDelayMs: 0 } },
    'input.pollPolicy.minDelayMs 0 must be a number from 1 to 86400000',
  ],
  [
    'poll cap below floor',
    { pollPolicy: { minDelayMs: 1000, maxDelayMs: 10 } },
    'input.pollPolicy.maxDelayMs 10 must be at least pollPolicy.minDelayMs (1000)',
  ],
  [
    'poll fractional ms',
    { pollPolicy: { maxDelayMs: 10.5 } },
    'input.pollPolicy.maxDelayMs 10.5 must be a whole number',
  ],
  [
    'poll unknown setting',
    { pollPolicy: { maxDelaySeconds: 10 } },
    'input.pollPolicy.maxDelaySeconds (number) is not a poll policy setting (known: initialDelayMs, minDelayMs, maxDelayMs, multiplier, jitter, queuedDelayMs, attemptTimeoutMs, inAttemptWaitMaxMs, maxProgressMilestones, reportRefreshMs, etaFraction, progressIntervalMs, eventSafetyNetDelayMs, awaitFirstEventMs)',
  ],
  [
    'jitter ≥ 1',
    { pollPolicy: { jitter: 1.5 } },
    'input.pollPolicy.jitter 1.5 must be a number from 0 to 0.99',
  ],
  [
    'deadline without zone',
    { deadline: '2030-01-01T00:00:00' },
    'input.deadline "2030-01-01T00:00:00" must be an ISO-8601 instant with a zone, e.g. 2030-01-01T00:00:00Z',
  ],
  [
    'deadline in the past',
    { deadline: '2025-12-31T23:59:59Z' },
    'input.deadline "2025-12-31T23:59:59Z" must be after the workflow start (2026-01-01T00:00:00.000Z)',
  ],
  [
    'error policy mode',
    { completedWithErrors: { mode: 'ignore' } },
    'input.completedWithErrors.mode "ignore" must be "succeed-with-warnings" or "fail-above-error-rate"',
  ],
  [
    'error rate above 1',
    { completedWithErrors: { mode: 'fail-above-error-rate', maxErrorRate: 5 } },
    'input.completedWithErrors.maxErrorRate 5 must be a number from 0 to 1',
  ],
  [
    'existingJobId bad',
    { existingJobId: 'job?1' },
    'input.existingJobId "job?1" must contain only letters, digits, spaces and _.:/=+-%@',
  ],
  [
    'manifest for another prefix',
    { manifest: { ...VALID_MANIFEST, s3Uri: 's3://landing-bucket/other' } },
    'input.manifest.s3Uri "s3://landing-bucket/other" must equal input.inputS3Uri (s3://landing-bucket/fhir/batch-1/)',
  ],
  [
    'manifest totals wrong',
    { manifest: { ...VALID_MANIFEST, totalBytes: 149 } },
    'input.manifest.totalBytes 149 must equal the sum of objects[].sizeBytes (150)',
  ],
  [
    'strict without manifest',
    { reconciliation: 'strict' },
    'input.reconciliation "strict" needs input.manifest to reconcile against',
  ],
  ['misspelt field', { inputS3URI: 's3://x/y' }, 'input.inputS3URI (string) is not a FhirImportInput field'],
  [
    'a resource passed as a field (not echoed)',
    { datastoreId: { resourceType: 'Patient', name: [{ family: 'Doe' }] } },
    'input.datastoreId (object) must be a string',
  ],
  [
    'a resource under an unknown field (not echoed)',
    { patient: 'Patient/123 Jane Doe 1970-01-01' },
    'input.patient (string) is not a FhirImportInput field',
  ],
  ['apiTaskQueue blank', { apiTaskQueue: 'a b' }, 'input.apiTaskQueue "a b" must not contain whitespace'],
  [
    'fairnessKey with a space',
    { fairnessKey: 'tenant a' },
    'input.fairnessKey "tenant a" must be printable ASCII without spaces',
  ],
  [
    'output inside the input prefix',
    { outputS3Uri: 's3://landing-bucket/fhir/batch-1/out' },
    'input.outputS3Uri "s3://landing-bucket/fhir/batch-1/out" must not be inside input.inputS3Uri "s3://landing-bucket/fhir/batch-1/" (HealthLake writes its output files where an import of the input location reads them)',
  ],
  [
    'output equal to the input (trailing slash aside)',
    { outputS3Uri: 's3://landing-bucket/fhir/batch-1' },
    'input.outputS3Uri "s3://landing-bucket/fhir/batch-1" must not equal input.inputS3Uri "s3://landing-bucket/fhir/batch-1/" (HealthLake writes its output files where an import of the input location reads them)',
  ],
  [
    'input inside the output prefix',
    { outputS3Uri: 's3://landing-bucket/fhir' },
    'input.inputS3Uri "s3://landing-bucket/fhir/batch-1/" must not be inside input.outputS3Uri "s3://landing-bucket/fhir" (HealthLake writes its output files where an import of the input location reads them)',
  ],
  [
    'deadline February 30',
    { deadline: '2030-02-30T00:00:00Z' },
    'input.deadline "2030-02-30T00:00:00Z" must be a real date and time: day 30 does not exist in February 2030 (it has 28 days)',
  ],
  [
    'deadline February 29 of a common year',
    { deadline: '2031-02-29T12:00:00Z' },
    'input.deadline "2031-02-29T12:00:00Z" must be a real date and time: day 29 does not exist in February 2031 (it has 28 days)',
  ],
  [
    'deadline April 31',
    { deadline: '2030-04-31T00:00:00+02:00' },
    'input.deadline "2030-04-31T00:00:00+02:00" must be a real date and time: day 31 does not exist in April 2030 (it has 30 days)',
  ],
  [
    'deadline month 13',
    { deadline: '2030-13-01T00:00:00Z' },
    'input.deadline "2030-13-01T00:00:00Z" must be a real date and time: month 13 does not exist (01-12)',
  ],
  [
    'deadline hour 25',
    { deadline: '2030-01-01T25:00:00Z' },
    'input.deadline "2030-01-01T25:00:00Z" must be a real date and time: hour 25 does not exist (00-23)',
  ],
];

/**
 * Rows of {@link INVALID_IMPORT_INPUTS} that only the rules added after release 18a8820 reject: the
 * workflow records their patch marker before failing (an older history replays without them).
 */
export const RULES_SINCE_18A8820: ReadonlySet<string> = new Set([
  'output inside the input prefix',
  'output equal to the input (trailing slash aside)',
  'input inside the output prefix',
  'deadline February 30',
  'deadline February 29 of a common year',
  'deadline April 31',
]);
