// Table test of validateFhirImportInput: each invalid input names its field, value and rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateFhirImportInput } from '../workflows/import-input';
import { DEFAULT_POLL_POLICY } from '../workflows/types';
import {
  INVALID_IMPORT_INPUTS as INVALID_INPUTS,
  VALID_INPUT,
  VALID_MANIFEST as manifest,
} from './helpers/import-inputs';

const NOW_MS = Date.parse('2026-01-01T00:00:00Z');

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

  it('prints at most 100 characters of a known field, and numbers as they are', () => {
    const long = `s3://bucket/${'x'.repeat(200)}`;
    const result = validateFhirImportInput(
      { ...VALID_INPUT, jobName: long, pollPolicy: { minDelayMs: Number.NaN } },
      NOW_MS,
    );
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(
      result.errors.map((e) => e.message),
      [
        `input.jobName ${JSON.stringify(long).slice(0, 100)}… must be 1-64 characters long`,
        'input.pollPolicy.minDelayMs NaN must be a number from 1 to 86400000',
      ],
    );
  });

  it('rejects a non-object', () => {
    const result = validateFhirImportInput('s3://bucket/x', NOW_MS);
    assert.equal(result.ok, false);
    if (!result.ok)
      assert.equal(result.errors[0]?.message, 'input. (string) must be a FhirImportInput object');
  });
});
