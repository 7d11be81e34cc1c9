// The synthetic FHIR generator: deterministic bytes per seed, exact broken-line counts, every
// valid line passes strict validation, every broken line fails structure-only, references resolve,
// and the files land in a directory and in a real S3-compatible server (moto).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  BROKEN_LINE_KINDS,
  generateFhirData,
  GenerateFhirOptionError,
  KINDS_REJECTED_BY_MINIMAL,
  writeFhirDataToDir,
  writeFhirDataToS3,
  type GeneratedFhirData,
} from '../emulator/fhir/generate';
import { checkResourceLine } from '../emulator/fhir/validate';
import { createS3Client, listObjects, readObjectLines } from '../emulator/s3';
import { startS3Server, type S3ServerHandle } from '../emulator/s3-server';

function linesOf(data: GeneratedFhirData): { line: string; broken: boolean }[] {
  return data.files.flatMap((file) => {
    const lines = file.content.split('\n');
    assert.equal(lines.pop(), '', `${file.name} ends with a newline`);
    const broken = new Set(file.invalidLineNumbers);
    return lines.map((line, i) => ({ line, broken: broken.has(i + 1) }));
  });
}

describe('generateFhirData', () => {
  const options = { patients: 60, seed: 42, invalidRate: 0.1, maxFileBytes: 200_000 } as const;
  const data = generateFhirData(options);

  it('is byte-identical for the same seed and differs for another', () => {
    const again = generateFhirData(options);
    assert.deepEqual(
      again.files.map((f) => f.content),
      data.files.map((f) => f.content),
    );
    assert.deepEqual(again.counts, data.counts);
    const other = generateFhirData({ ...options, seed: 43 });
    assert.notEqual(other.files[0]?.content, data.files[0]?.content);
  });

  it('breaks exactly round(rate x lines) lines, every kind, with consistent counts', () => {
    const { counts } = data;
    assert.equal(counts.invalidLines, Math.round(0.1 * counts.resources));
    assert.equal(counts.validLines + counts.invalidLines, counts.resources);
    const perKind = counts.invalidLines / BROKEN_LINE_KINDS.length;
    for (const kind of BROKEN_LINE_KINDS) {
      assert.ok(Math.abs(counts.invalidByKind[kind] - perKind) < 1, `${kind}: ${counts.invalidByKind[kind]}`);
    }
    assert.equal(
      Object.values(counts.invalidByKind).reduce((a, b) => a + b, 0),
      counts.invalidLines,
    );
    assert.equal(
      Object.values(counts.byType).reduce((a, b) => a + b, 0),
      counts.validLines,
    );
    assert.equal(counts.byType.Patient, 60);
    assert.equal(counts.files, data.files.length);
    assert.equal(
      counts.bytes,
      data.files.reduce((sum, f) => sum + Buffer.byteLength(f.content), 0),
    );
    for (const file of data.files) assert.equal(file.bytes, Buffer.byteLength(file.content));
    assert.equal(
      data.files.reduce((sum, f) => sum + f.invalidLineNumbers.length, 0),
      counts.invalidLines,
    );
  });

  it('splits files at maxFileBytes and at resourcesPerFile', () => {
    assert.ok(data.files.length > 1);
    for (const file of data.files) assert.ok(file.bytes <= 200_000, `${file.name}: ${file.bytes}`);
    assert.deepEqual(data.files.map((f) => f.name).slice(0, 2), [
      'synthetic-fhir-00001.ndjson',
      'synthetic-fhir-00002.ndjson',
    ]);
    const perFile = generateFhirData({ patients: 5, seed: 1, resourcesPerFile: 10, filePrefix: 'batch' });
    const full = Math.floor(perFile.counts.resources / 10);
    const rest = perFile.counts.resources % 10;
    assert.deepEqual(
      perFile.files.map((f) => f.lines),
      [...Array.from({ length: full }, () => 10), ...(rest > 0 ? [rest] : [])],
    );
    assert.equal(perFile.files[0]?.name, 'batch-00001.ndjson');
  });

  it('writes lines every validator level judges as counted', () => {
    const lines = linesOf(data);
    assert.equal(lines.length, data.counts.resources);
    const rejected = { strict: 0, 'structure-only': 0, minimal: 0 };
    for (const { line, broken } of lines) {
      const strict = checkResourceLine(line, 'strict');
      const structure = checkResourceLine(line, 'structure-only');
      const minimal = checkResourceLine(line, 'minimal');
      if (!broken) {
        assert.ok(strict.ok, strict.ok ? '' : JSON.stringify(strict.outcome.issue));
      } else {
        assert.equal(structure.ok, false);
      }
      if (!strict.ok) rejected.strict++;
      if (!structure.ok) rejected['structure-only']++;
      if (!minimal.ok) rejected.minimal++;
    }
    assert.deepEqual(rejected, data.counts.invalidByLevel);
    assert.equal(
      data.counts.invalidByLevel.minimal,
      KINDS_REJECTED_BY_MINIMAL.reduce((sum, kind) => sum + data.counts.invalidByKind[kind], 0),
    );
  });

  it('links every valid resource to generated resources by Type/<id>', () => {
    const valid = linesOf(data)
      .filter((l) => !l.broken)
      .map((l) => JSON.parse(l.line) as Record<string, unknown>);
    const ids = new Set(valid.map((r) => `${String(r.resourceType)}/${String(r.id)}`));
    assert.equal(ids.size, valid.length, 'ids are unique');
    const patients = new Set(data.patientIds.map((id) => `Patient/${id}`));
    assert.equal(patients.size, 60);
    let patientRefs = 0;
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(visit);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, child] of Object.entries(value)) {
          if (key === 'reference' && typeof child === 'string') {
            if (child.startsWith('Patient/')) {
              assert.ok(patients.has(child), child);
              patientRefs++;
            }
            // At 10% only leaf resources are broken, so every reference still resolves.
            assert.ok(ids.has(child), `dangling ${child}`);
          } else visit(child);
        }
      }
    };
    valid.forEach(visit);
    assert.equal(
      patientRefs,
      valid.length -
        data.counts.byType.Patient! -
        data.counts.byType.Organization! -
        data.counts.byType.Practitioner!,
    );
  });

  it('rejects options outside their range, naming option, value and rule', () => {
    const table: [Parameters<typeof generateFhirData>[0], string][] = [
      [{ patients: 0 }, 'patients 0 must be an integer ≥ 1'],
      [{ patients: 2.5 }, 'patients 2.5 must be an integer ≥ 1'],
      [{ patients: 1, invalidRate: 1.5 }, 'invalidRate 1.5 must be a number in 0..1'],
      [{ patients: 1, invalidRate: Number.NaN }, 'invalidRate NaN must be a number in 0..1'],
      [{ patients: 1, seed: 0.5 }, 'seed 0.5 must be an integer'],
      [{ patients: 1, maxFileBytes: 0 }, 'maxFileBytes 0 must be an integer ≥ 1'],
      [{ patients: 1, resourcesPerFile: -1 }, 'resourcesPerFile -1 must be an integer ≥ 1'],
      [{ patients: 1, filePrefix: 'a/b' }, 'filePrefix "a/b" must be made of A-Z, a-z, 0-9, ".", "_", "-"'],
    ];
    for (const [options, message] of table) {
      assert.throws(
        () => generateFhirData(options),
        (err: unknown) => err instanceof GenerateFhirOptionError && err.message === message,
        message,
      );
    }
  });
});

describe('writing generated data', () => {
  const data = generateFhirData({ patients: 20, seed: 5, invalidRate: 0.05, maxFileBytes: 100_000 });
  let server: S3ServerHandle;
  let s3: S3Client;
  before(async () => {
    server = await startS3Server();
    s3 = createS3Client({ endpoint: server.endpoint });
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('writes every file to a local folder', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'fhir-gen-')), 'out');
    const paths = await writeFhirDataToDir(data, dir);
    assert.deepEqual(readdirSync(dir).sort(), data.files.map((f) => f.name).sort());
    assert.deepEqual(
      paths.map((p) => readFileSync(p, 'utf8')),
      data.files.map((f) => f.content),
    );
  });

  it('uploads every file under an S3 prefix, byte for byte', async () => {
    const keys = await writeFhirDataToS3(data, s3, 's3://generated-fhir/input/run-1/');
    assert.deepEqual(
      keys,
      data.files.map((f) => `input/run-1/${f.name}`),
    );
    const listed = await listObjects(s3, 'generated-fhir', 'input/run-1/');
    assert.deepEqual(
      listed,
      data.files.map((f) => ({ key: `input/run-1/${f.name}`, sizeBytes: f.bytes })),
    );
    const first = data.files[0]!;
    const lines: string[] = [];
    for await (const line of readObjectLines(s3, 'generated-fhir', `input/run-1/${first.name}`))
      lines.push(line);
    assert.equal(lines.join('\n') + '\n', first.content);
  });

  it('runs as the generate-fhir CLI command and prints the exact counts', async () => {
    const run = promisify(execFile);
    const cli = resolve(__dirname, '..', 'cli', 'main.ts');
    const tsx = resolve(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const uri = 's3://generated-fhir/cli/';
    const { stdout } = await run(tsx, [
      cli,
      'generate-fhir',
      '--patients',
      '8',
      '--out',
      uri,
      '--invalid-rate',
      '0.2',
      '--seed',
      '9',
      '--s3-endpoint',
      server.endpoint,
    ]);
    const expected = generateFhirData({ patients: 8, seed: 9, invalidRate: 0.2 });
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(printed, { out: uri, written: ['cli/synthetic-fhir-00001.ndjson'], ...expected.counts });
    assert.deepEqual(await listObjects(s3, 'generated-fhir', 'cli/'), [
      { key: 'cli/synthetic-fhir-00001.ndjson', sizeBytes: expected.counts.bytes },
    ]);

    await assert.rejects(
      run(tsx, [cli, 'generate-fhir', '--patients', '8', '--out', 's3:/typo']),
      (err: unknown) => {
        const failed = err as { code: number; stderr: string };
        assert.equal(failed.code, 2);
        assert.match(failed.stderr, /S3 URI "s3:\/typo" must match s3:\/\/<bucket>\/<prefix>/);
        return true;
      },
    );
  });
});
