// Table test of validateFhirImportInput: each invalid input names its field, value and rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { importJobName, validateFhirImportInput } from '../workflows/import-input';
import { DEFAULT_POLL_POLICY } from '../workflows/types';
import {
  INVALID_IMPORT_INPUTS as INVALID_INPUTS,
  VALID_INPUT,
  VALID_MANIFEST as manifest,
} from './helpers/import-inputs';

const NOW_MS = Date.parse('2026-01-01T00:00:00Z');

/** Reference FNV-1a 64 over UTF-8, independent of the workflow's implementation. */
function fnv(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) % 2n ** 64n;
  return hash.toString(16).padStart(16, '0');
}

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

  it('accepts sibling S3 locations that only share a name prefix, and February 29 of a leap year', () => {
    const result = validateFhirImportInput(
      {
        ...VALID_INPUT,
        inputS3Uri: 's3://landing-bucket/fhir/batch-1',
        outputS3Uri: 's3://landing-bucket/fhir/batch-10/out',
        deadline: '2032-02-29T23:59:59.999Z',
      },
      NOW_MS,
    );
    assert.ok(result.ok, result.ok ? '' : result.errors.map((e) => e.message).join('; '));
    assert.equal(result.input.deadlineMs, Date.parse('2032-02-29T23:59:59.999Z'));
  });

  it('without the rules added after 18a8820 (replaying an older history) accepts what it accepted then', () => {
    const before = { rulesSince18a8820: false };
    const overlap = validateFhirImportInput(
      { ...VALID_INPUT, outputS3Uri: 's3://landing-bucket/fhir/batch-1/out' },
      NOW_MS,
      before,
    );
    assert.ok(overlap.ok);
    // Date.parse rolls February 30 over to March 2: the old behaviour, kept for replay only.
    const rolled = validateFhirImportInput(
      { ...VALID_INPUT, deadline: '2030-02-30T00:00:00Z' },
      NOW_MS,
      before,
    );
    assert.ok(rolled.ok);
    assert.equal(rolled.input.deadlineMs, Date.parse('2030-03-02T00:00:00Z'));
    // Month 13 never parsed: the old message.
    const month13 = validateFhirImportInput(
      { ...VALID_INPUT, deadline: '2030-13-01T00:00:00Z' },
      NOW_MS,
      before,
    );
    assert.equal(month13.ok, false);
    if (!month13.ok)
      assert.equal(
        month13.errors[0]?.message,
        'input.deadline "2030-13-01T00:00:00Z" must be an ISO-8601 instant with a zone, e.g. 2030-01-01T00:00:00Z',
      );
  });

  it("a job name per import identity: tagged, at most 64 characters, within HealthLake's pattern", () => {
    const round = importJobName(undefined, 'default', 'fhir-import-batch(1)');
    const square = importJobName(undefined, 'default', 'fhir-import-batch[1]');
    assert.match(round, /^fhir-import-batch-1--[0-9a-f]{16}$/);
    assert.match(square, /^fhir-import-batch-1--[0-9a-f]{16}$/);
    assert.notEqual(round, square);
    // The same identity always gives the same name; the namespace is part of it.
    assert.equal(importJobName(undefined, 'default', 'fhir-import-batch(1)'), round);
    assert.notEqual(importJobName(undefined, 'prod', 'fhir-import-batch(1)'), round);
    // A caller's name keeps its text, cut to leave room for the tag (47 + 1 + 16 = 64).
    const named = importJobName('n'.repeat(64), 'default', 'wf');
    assert.equal(named.length, 64);
    assert.match(named, /^n{47}-[0-9a-f]{16}$/);
    assert.equal(importJobName('nightly', 'default', 'wf').slice(0, 8), 'nightly-');
    // A long id of astral characters is cut between characters, never inside a surrogate pair.
    const emoji = importJobName('𝔸'.repeat(40), 'default', 'wf');
    assert.ok(emoji.length <= 64);
    assert.match(emoji, /^[\p{L}\p{Z}\p{N}_.:/=+\-%@]*$/u);
    // FNV-1a 64 of "default/wf" over UTF-8: pinned, since a change would orphan running jobs.
    assert.equal(importJobName('x', 'default', 'wf'), `x-${fnv('default/wf')}`);
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
