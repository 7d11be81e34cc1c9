// `temporal-healthlake generate-fhir` on real processes: a patient count past the in-memory bound
// fails at once (exit 2, naming the flag, the value and the rule) instead of running for hours,
// and a run reports its progress on stderr while stdout stays the one JSON result.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  generateFhirData,
  GenerateFhirOptionError,
  MAX_GENERATED_PATIENTS,
  type GenerateFhirProgress,
} from '../emulator/fhir/generate';
import { runCli } from './helpers/cli-process';

/** Kills a run that does not end; the bound check itself takes milliseconds. */
const HANG_GUARD_MS = 30_000;

async function generateFhir(args: string[]) {
  const { code, signal, stdout, stderr } = await runCli(['generate-fhir', ...args], {
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    killAfterMs: HANG_GUARD_MS,
  });
  return { code, signal, stdout, stderrLines: stderr.split('\n').filter((line) => line !== '') };
}

describe('temporal-healthlake generate-fhir bounds and progress', () => {
  it(`refuses --patients over ${MAX_GENERATED_PATIENTS} at once with exit 2, naming the flag, value and rule`, async () => {
    const { code, signal, stdout, stderrLines } = await generateFhir([
      '--patients',
      '100000000',
      '--out',
      join(mkdtempSync(join(tmpdir(), 'thl-gen-')), 'never'),
    ]);
    assert.deepEqual({ code, signal }, { code: 2, signal: null });
    assert.equal(stdout, '');
    assert.equal(
      stderrLines[0],
      `generate-fhir: --patients 100000000 must be at most ${MAX_GENERATED_PATIENTS} ` +
        '(the data set is built in memory; generate more in several runs with different seeds) (see --help)',
    );
    assert.equal(stderrLines.length, 1);
  });

  it('rejects an --s3-endpoint that is not an http(s) URL before generating anything', async () => {
    const { code, stderrLines } = await generateFhir([
      '--patients',
      '3',
      '--out',
      's3://bucket/prefix/',
      '--s3-endpoint',
      'not-a-url',
    ]);
    assert.equal(code, 2);
    assert.equal(
      stderrLines[0],
      'generate-fhir: --s3-endpoint "not-a-url" must be an http(s) URL, e.g. http://127.0.0.1:4566 (see --help)',
    );
  });

  it('prints progress lines on stderr every --progress-every patients and per file; stdout stays JSON', async () => {
    const out = mkdtempSync(join(tmpdir(), 'thl-gen-'));
    const options = { patients: 30, maxFileBytes: 100_000 } as const;
    const files = generateFhirData(options).files.length;
    assert.ok(files > 1, `expected several files, got ${files}`);

    const { code, stdout, stderrLines } = await generateFhir([
      '--patients',
      '30',
      '--max-file-bytes',
      '100000',
      '--progress-every',
      '10',
      '--out',
      out,
    ]);
    assert.equal(code, 0);
    assert.deepEqual(stderrLines, [
      'generate-fhir: generated 10/30 patients',
      'generate-fhir: generated 20/30 patients',
      'generate-fhir: generated 30/30 patients',
      ...Array.from({ length: files }, (_, i) => `generate-fhir: wrote ${i + 1}/${files} files`),
    ]);
    assert.equal((JSON.parse(stdout) as { files: number }).files, files);
  });
});

describe('generateFhirData bound and progress', () => {
  it('throws GenerateFhirOptionError past MAX_GENERATED_PATIENTS', () => {
    assert.throws(
      () => generateFhirData({ patients: MAX_GENERATED_PATIENTS + 1 }),
      (err: unknown) =>
        err instanceof GenerateFhirOptionError &&
        err.option === 'patients' &&
        err.value === MAX_GENERATED_PATIENTS + 1 &&
        err.rule.startsWith(`at most ${MAX_GENERATED_PATIENTS} `),
    );
    assert.throws(
      () => generateFhirData({ patients: 1, progressEveryPatients: 0 }),
      /^GenerateFhirOptionError: progressEveryPatients 0 must be an integer ≥ 1$/,
    );
  });

  it('reports progress every progressEveryPatients patients and after the last one, without changing the data', () => {
    const reports: GenerateFhirProgress[] = [];
    const data = generateFhirData({
      patients: 25,
      seed: 3,
      progressEveryPatients: 10,
      onProgress: (p) => reports.push(p),
    });
    assert.deepEqual(reports, [
      { patientsGenerated: 10, patients: 25 },
      { patientsGenerated: 20, patients: 25 },
      { patientsGenerated: 25, patients: 25 },
    ]);
    assert.deepEqual(data, generateFhirData({ patients: 25, seed: 3 }));
  });
});
