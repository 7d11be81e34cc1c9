// Table test of validateFhirImportInput: each invalid input names its field, value and rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFhirImportInput } from '../workflows/import-input';
import { DEFAULT_POLL_POLICY, type FhirImportInput } from '../workflows/types';

const NOW_MS = Date.parse('2026-01-01T00:00:00Z');

export const VALID_INPUT: FhirImportInput = {
  datastoreId: '0123456789abcdef0123456789abcdef',
  inputS3Uri: 's3://landing-bucket/fhir/batch-1/',
  outputS3Uri: 's3://output-bucket/imports',
  kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  dataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
};

const manifest = {
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
export const INVALID_INPUTS: ReadonlyArray<[string, Record<string, unknown>, string]> = [
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
    'input.pollPolicy.maxDelaySeconds 10 is not a poll policy setting (known: initialDelayMs, minDelayMs, maxDelayMs, multiplier, jitter, queuedDelayMs, attemptTimeoutMs, maxProgressMilestones)',
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
    { manifest: { ...manifest, s3Uri: 's3://landing-bucket/other' } },
    'input.manifest.s3Uri "s3://landing-bucket/other" must equal input.inputS3Uri (s3://landing-bucket/fhir/batch-1/)',
  ],
  [
    'manifest totals wrong',
    { manifest: { ...manifest, totalBytes: 149 } },
    'input.manifest.totalBytes 149 must equal the sum of objects[].sizeBytes (150)',
  ],
  [
    'strict without manifest',
    { reconciliation: 'strict' },
    'input.reconciliation "strict" needs input.manifest to reconcile against',
  ],
  [
    'misspelt field',
    { inputS3URI: 's3://x/y' },
    'input.inputS3URI "s3://x/y" is not a FhirImportInput field',
  ],
  ['apiTaskQueue blank', { apiTaskQueue: 'a b' }, 'input.apiTaskQueue "a b" must not contain whitespace'],
];

function withOverrides(overrides: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = { ...VALID_INPUT, ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete input[key];
  return input;
}

describe('validateFhirImportInput', () => {
  it('accepts a valid input and fills defaults', () => {
    const result = validateFhirImportInput({ ...VALID_INPUT, manifest, reconciliation: 'strict' }, NOW_MS);
    assert.ok(result.ok);
    assert.deepEqual(result.input.pollPolicy, DEFAULT_POLL_POLICY);
    assert.deepEqual(result.input.completedWithErrors, { mode: 'succeed-with-warnings' });
    assert.equal(result.input.reconciliation, 'strict');
    assert.equal(result.input.deadlineMs, undefined);
  });

  it('accepts key ids, aliases and a future deadline', () => {
    for (const kmsKeyId of [
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'alias/healthlake',
      `mrk-${'a'.repeat(32)}`,
    ]) {
      const result = validateFhirImportInput(
        { ...VALID_INPUT, kmsKeyId, deadline: '2026-01-01T01:00:00+01:00', pollPolicy: { minDelayMs: 10 } },
        NOW_MS - 1,
      );
      assert.ok(result.ok, kmsKeyId);
      assert.equal(result.input.deadlineMs, NOW_MS);
      assert.equal(result.input.pollPolicy.minDelayMs, 10);
    }
  });

  it(`has at least 15 invalid cases (${INVALID_INPUTS.length})`, () => {
    assert.ok(INVALID_INPUTS.length >= 15);
  });

  for (const [label, overrides, message] of INVALID_INPUTS) {
    it(`rejects: ${label}`, () => {
      const result = validateFhirImportInput(withOverrides(overrides), NOW_MS);
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.deepEqual(
        result.errors.map((e) => e.message),
        [message],
      );
      const [error] = result.errors;
      assert.equal(message.startsWith(`input.${error?.field} `), true);
    });
  }

  it('reports every broken rule, not only the first', () => {
    const result = validateFhirImportInput({ datastoreId: '', inputS3Uri: 'http://x' }, NOW_MS);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.errors.map((e) => e.field),
      ['datastoreId', 'inputS3Uri', 'outputS3Uri', 'kmsKeyId', 'dataAccessRoleArn'],
    );
  });

  it('rejects a non-object', () => {
    const result = validateFhirImportInput('s3://bucket/x', NOW_MS);
    assert.equal(result.ok, false);
    if (!result.ok)
      assert.equal(result.errors[0]?.message, 'input. "s3://bucket/x" must be a FhirImportInput object');
  });
});
