// The HealthLake emulator through the real @aws-sdk/client-healthlake over HTTP, with jobs running
// against a real S3-compatible server (moto): data store lifecycle, imports with exact counts and
// AWS's output layout, FIFO queueing, ClientToken idempotency, job-level failures.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  DeleteFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  DescribeFHIRImportJobCommand,
  StartFHIRExportJobCommand,
  StartFHIRImportJobCommand,
  type StartFHIRImportJobCommandInput,
} from '@aws-sdk/client-healthlake';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import { ensureBucket, listObjectKeys, putObjectText } from '../emulator/s3';
import {
  startLocalHealthLake,
  waitForDatastore,
  waitForExportJob,
  waitForImportJob,
  type LocalHealthLake,
} from '../emulator/testing';
import { expectServiceError } from './helpers/service-error';

const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const KMS = 'arn:aws:kms:us-east-1:123456789012:key/0e6f6a5e-6c1a-4b9e-9b7e-1d0f0c7c3f11';
const BUCKET = 'emulator-test';

const patient = (id: string): string => JSON.stringify({ resourceType: 'Patient', id, gender: 'female' });
const observation = (id: string): string =>
  JSON.stringify({ resourceType: 'Observation', id, status: 'final', code: { text: 'x' } });

async function readText(local: LocalHealthLake, key: string): Promise<string> {
  const object = await local.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return object.Body!.transformToString();
}

describe('HealthLake emulator through the real SDK', () => {
  let local: LocalHealthLake;
  let datastoreId: string;

  const importInput = (
    prefix: string,
    extra: Partial<StartFHIRImportJobCommandInput> = {},
  ): StartFHIRImportJobCommandInput => ({
    DatastoreId: datastoreId,
    InputDataConfig: { S3Uri: `s3://${BUCKET}/${prefix}` },
    JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/out/${prefix}`, KmsKeyId: KMS } },
    DataAccessRoleArn: ROLE,
    ...extra,
  });

  before(async () => {
    local = await startLocalHealthLake();
    await ensureBucket(local.s3, BUCKET);
    const created = await local.healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreName: 'main', DatastoreTypeVersion: 'R4' }),
    );
    datastoreId = created.DatastoreId!;
    await waitForDatastore(local.healthLake, datastoreId);
  });
  after(async () => {
    await local.stop();
  });

  it('creates a data store in AWS formats, CREATING then ACTIVE, and deletes it through DELETING to DELETED', async () => {
    const created = await local.healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreName: 'lifecycle', DatastoreTypeVersion: 'R4' }),
    );
    const id = created.DatastoreId!;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(created.DatastoreStatus, 'CREATING');
    assert.equal(created.DatastoreArn, `arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/${id}`);
    assert.equal(created.DatastoreEndpoint, `https://healthlake.us-east-1.amazonaws.com/datastore/${id}/r4/`);
    assert.match(created.$metadata.requestId!, /^[0-9a-f-]{36}$/);
    await waitForDatastore(local.healthLake, id);
    const { DatastoreProperties: properties } = await local.healthLake.send(
      new DescribeFHIRDatastoreCommand({ DatastoreId: id }),
    );
    assert.equal(properties!.DatastoreName, 'lifecycle');
    assert.equal(properties!.DatastoreTypeVersion, 'R4');
    assert.ok(properties!.CreatedAt instanceof Date);
    assert.deepEqual(properties!.SseConfiguration, { KmsEncryptionConfig: { CmkType: 'AWS_OWNED_KMS_KEY' } });
    const deleting = await local.healthLake.send(new DeleteFHIRDatastoreCommand({ DatastoreId: id }));
    assert.equal(deleting.DatastoreStatus, 'DELETING');
    await waitForDatastore(local.healthLake, id, 'DELETED');
  });

  it('imports with broken lines: COMPLETED_WITH_ERRORS with exact counts, SUCCESS/FAILURE files and manifest.json', async () => {
    const fileA = [
      patient('p1'),
      patient('p2'),
      '{"resourceType":"Patient",',
      observation('o1'),
      '{"resourceType":"Patient"}',
      '',
    ].join('\n');
    const fileB = [observation('o2'), patient('p3')].join('\n') + '\n';
    await putObjectText(local.s3, BUCKET, 'broken/a.ndjson', fileA);
    await putObjectText(local.s3, BUCKET, 'broken/b.ndjson', fileB);
    await putObjectText(local.s3, BUCKET, 'broken/notes.txt', 'not an input file');

    const started = await local.healthLake.send(
      new StartFHIRImportJobCommand(importInput('broken/', { JobName: 'broken' })),
    );
    assert.equal(started.JobStatus, 'SUBMITTED');
    assert.equal(started.DatastoreId, datastoreId);
    const job = await waitForImportJob(local.healthLake, datastoreId, started.JobId!);

    assert.equal(job.JobStatus, 'COMPLETED_WITH_ERRORS');
    assert.equal(job.JobName, 'broken');
    assert.equal(job.Message, undefined);
    assert.ok(job.SubmitTime instanceof Date && job.EndTime instanceof Date);
    assert.ok(job.EndTime >= job.SubmitTime);
    assert.equal(job.ValidationLevel, undefined);
    const bytes = Buffer.byteLength(fileA) + Buffer.byteLength(fileB);
    const { Throughput, ...report } = job.JobProgressReport!;
    assert.ok(typeof Throughput === 'number' && Throughput >= 0);
    assert.deepEqual(report, {
      TotalNumberOfScannedFiles: 2,
      TotalSizeOfScannedFilesInMB: bytes / 1_000_000,
      TotalNumberOfImportedFiles: 2,
      TotalNumberOfResourcesScanned: 7,
      TotalNumberOfResourcesImported: 5,
      TotalNumberOfResourcesWithCustomerError: 2,
      TotalNumberOfFilesReadWithCustomerError: 0,
    });

    const folder = `out/broken/${datastoreId}-FHIR_IMPORT-${started.JobId}`;
    const manifest = JSON.parse(await readText(local, `${folder}/manifest.json`)) as Record<string, unknown>;
    assert.deepEqual(manifest, {
      inputDataConfig: { s3Uri: `s3://${BUCKET}/broken/` },
      outputDataConfig: { s3Uri: `s3://${BUCKET}/out/broken/`, encryptionKeyID: KMS },
      successOutput: { successOutputS3Uri: `s3://${BUCKET}/${folder}/SUCCESS/` },
      failureOutput: { failureOutputS3Uri: `s3://${BUCKET}/${folder}/FAILURE/` },
      numberOfScannedFiles: 2,
      numberOfFilesImported: 2,
      sizeOfScannedFilesInMB: bytes / 1_000_000,
      sizeOfDataImportedSuccessfullyInMB:
        [patient('p1'), patient('p2'), observation('o1'), observation('o2'), patient('p3')].reduce(
          (n, line) => n + Buffer.byteLength(line) + 1,
          0,
        ) / 1_000_000,
      numberOfResourcesScanned: 7,
      numberOfResourcesImportedSuccessfully: 5,
      numberOfResourcesWithCustomerError: 2,
      numberOfResourcesWithServerError: 0,
    });
    const failures = (await readText(local, `${folder}/FAILURE/a.ndjson`))
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            lineId: number;
            statusCode: number;
            UpdateResourceResponse: { jsonBlob: { resourceType: string } };
          },
      );
    assert.deepEqual(
      failures.map((f) => [f.lineId, f.statusCode, f.UpdateResourceResponse.jsonBlob.resourceType]),
      [
        [3, 400, 'OperationOutcome'],
        [5, 400, 'OperationOutcome'],
      ],
    );
    const successes = (await readText(local, `${folder}/SUCCESS/a.ndjson`)).trim().split('\n');
    assert.deepEqual(
      successes.map((line) => (JSON.parse(line) as { lineId: number; statusCode: number }).lineId),
      [1, 2, 4],
    );
    assert.equal((await readText(local, `${folder}/SUCCESS/b.ndjson`)).trim().split('\n').length, 2);
  });

  it('imports a clean data set: COMPLETED with the exact resource count', async () => {
    const lines = Array.from({ length: 300 }, (_, i) =>
      i % 2 ? patient(`clean-p${i}`) : observation(`clean-o${i}`),
    );
    await putObjectText(local.s3, BUCKET, 'clean/part-1.ndjson', lines.slice(0, 150).join('\n'));
    await putObjectText(local.s3, BUCKET, 'clean/part-2.ndjson', lines.slice(150).join('\n'));
    const started = await local.healthLake.send(
      new StartFHIRImportJobCommand(importInput('clean/', { ValidationLevel: 'minimal' })),
    );
    const job = await waitForImportJob(local.healthLake, datastoreId, started.JobId!);
    assert.equal(job.JobStatus, 'COMPLETED');
    assert.equal(job.ValidationLevel, 'minimal');
    assert.equal(job.JobProgressReport!.TotalNumberOfResourcesImported, 300);
    assert.equal(job.JobProgressReport!.TotalNumberOfResourcesWithCustomerError, 0);
    assert.equal(job.JobProgressReport!.TotalNumberOfImportedFiles, 2);
  });

  it('queues a second import on the same data store until the first ends (FIFO)', async () => {
    await putObjectText(local.s3, BUCKET, 'queue/one.ndjson', patient('q1'));
    const first = await local.healthLake.send(new StartFHIRImportJobCommand(importInput('queue/')));
    assert.equal(local.emulator.jobs.hang(first.JobId!), true);
    const second = await local.healthLake.send(new StartFHIRImportJobCommand(importInput('queue/')));
    assert.equal(second.JobStatus, 'QUEUED');
    await sleep(200);
    const waiting = await local.healthLake.send(
      new DescribeFHIRImportJobCommand({ DatastoreId: datastoreId, JobId: second.JobId }),
    );
    assert.equal(waiting.ImportJobProperties!.JobStatus, 'QUEUED');
    assert.equal(local.emulator.jobs.list().find((j) => j.jobId === first.JobId)!.hung, true);
    assert.equal(local.emulator.jobs.release(first.JobId!), true);
    const firstDone = await waitForImportJob(local.healthLake, datastoreId, first.JobId!);
    const secondDone = await waitForImportJob(local.healthLake, datastoreId, second.JobId!);
    assert.equal(firstDone.JobStatus, 'COMPLETED');
    assert.equal(secondDone.JobStatus, 'COMPLETED');
    assert.ok(secondDone.EndTime! >= firstDone.EndTime!);
  });

  it('makes ClientToken idempotent: same request → same job; different request → ValidationException', async () => {
    await putObjectText(local.s3, BUCKET, 'token/one.ndjson', patient('t1'));
    const input = importInput('token/', { ClientToken: 'import-token-1', JobName: 'tokened' });
    const first = await local.healthLake.send(new StartFHIRImportJobCommand(input));
    const again = await local.healthLake.send(new StartFHIRImportJobCommand(input));
    assert.equal(again.JobId, first.JobId);
    await expectServiceError(
      local.healthLake.send(new StartFHIRImportJobCommand({ ...input, JobName: 'other' })),
      'ValidationException',
      new RegExp(
        `Value 'import-token-1' at 'clientToken' failed to satisfy constraint: ClientToken was already used with a different StartFHIRImportJob request \\(job ${first.JobId}\\)`,
      ),
    );
    await waitForImportJob(local.healthLake, datastoreId, first.JobId!);
  });

  it('fails a job with a Message for job-level problems', async () => {
    await putObjectText(local.s3, BUCKET, 'nothing/readme.txt', 'no ndjson here');
    const cases: [string, string][] = [
      ['s3://emulator-test/nothing/', 'No .ndjson files found under s3://emulator-test/nothing/'],
      [
        's3://no-such-bucket-here/x/',
        'Input location s3://no-such-bucket-here/x/ is not accessible: bucket no-such-bucket-here does not exist',
      ],
    ];
    await putObjectText(local.s3, BUCKET, 'has-input/one.ndjson', patient('f1'));
    const missingOutput = {
      ...importInput('has-input/'),
      JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://no-output-bucket/out/', KmsKeyId: KMS } },
    };
    const started = await local.healthLake.send(new StartFHIRImportJobCommand(missingOutput));
    const job = await waitForImportJob(local.healthLake, datastoreId, started.JobId!);
    assert.equal(job.JobStatus, 'FAILED');
    assert.equal(
      job.Message,
      'Output location s3://no-output-bucket/out/ is not accessible: bucket no-output-bucket does not exist',
    );
    for (const [uri, message] of cases) {
      const started = await local.healthLake.send(
        new StartFHIRImportJobCommand({ ...importInput('nothing/'), InputDataConfig: { S3Uri: uri } }),
      );
      const job = await waitForImportJob(local.healthLake, datastoreId, started.JobId!);
      assert.equal(job.JobStatus, 'FAILED');
      assert.equal(job.Message, message);
    }
  });

  it('answers unknown ids with ResourceNotFoundException and imports on a non-ACTIVE data store with ValidationException', async () => {
    await expectServiceError(
      local.healthLake.send(new DescribeFHIRDatastoreCommand({ DatastoreId: 'f'.repeat(32) })),
      'ResourceNotFoundException',
      /^Data store f{32} does not exist in account 123456789012 \(us-east-1\)$/,
    );
    await expectServiceError(
      local.healthLake.send(
        new DescribeFHIRImportJobCommand({ DatastoreId: datastoreId, JobId: 'a'.repeat(32) }),
      ),
      'ResourceNotFoundException',
      new RegExp(`^Import job a{32} does not exist in data store ${datastoreId}$`),
    );
    local.emulator.updateSettings({ speed: { datastoreCreateMs: 60_000 } });
    try {
      const creating = await local.healthLake.send(
        new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }),
      );
      await expectServiceError(
        local.healthLake.send(
          new StartFHIRImportJobCommand({ ...importInput('x/'), DatastoreId: creating.DatastoreId }),
        ),
        'ValidationException',
        new RegExp(
          `^Data store ${creating.DatastoreId} is CREATING; StartFHIRImportJob needs an ACTIVE data store$`,
        ),
      );
    } finally {
      local.emulator.updateSettings({ speed: { datastoreCreateMs: 50 } });
    }
  });

  it('imports generated data with a known number of broken lines: exact counts in the report, manifest.json and FAILURE files', async () => {
    const data = generateFhirData({ patients: 12, seed: 11, invalidRate: 0.05, maxFileBytes: 40_000 });
    assert.ok(data.counts.invalidLines > 0 && data.counts.files > 1);
    await writeFhirDataToS3(data, local.s3, `s3://${BUCKET}/generated-broken/`);
    for (const level of ['strict', 'minimal'] as const) {
      const started = await local.healthLake.send(
        new StartFHIRImportJobCommand(importInput('generated-broken/', { ValidationLevel: level })),
      );
      const job = await waitForImportJob(local.healthLake, datastoreId, started.JobId!);
      const rejected = data.counts.invalidByLevel[level];
      assert.equal(job.JobStatus, 'COMPLETED_WITH_ERRORS');
      const { Throughput: _throughput, ...report } = job.JobProgressReport!;
      assert.deepEqual(report, {
        TotalNumberOfScannedFiles: data.counts.files,
        TotalSizeOfScannedFilesInMB: data.counts.bytes / 1_000_000,
        TotalNumberOfImportedFiles: data.counts.files,
        TotalNumberOfResourcesScanned: data.counts.resources,
        TotalNumberOfResourcesImported: data.counts.resources - rejected,
        TotalNumberOfResourcesWithCustomerError: rejected,
        TotalNumberOfFilesReadWithCustomerError: 0,
      });
      const folder = `out/generated-broken/${datastoreId}-FHIR_IMPORT-${started.JobId}`;
      const manifest = JSON.parse(await readText(local, `${folder}/manifest.json`)) as Record<string, number>;
      assert.equal(manifest.numberOfResourcesScanned, data.counts.resources);
      assert.equal(manifest.numberOfResourcesImportedSuccessfully, data.counts.resources - rejected);
      assert.equal(manifest.numberOfResourcesWithCustomerError, rejected);
      const failureKeys = await listObjectKeys(local.s3, BUCKET, `${folder}/FAILURE/`);
      let failureLines = 0;
      for (const file of data.files) {
        const key = `${folder}/FAILURE/${file.name}`;
        if (!failureKeys.includes(key)) continue;
        const lineIds = (await readText(local, key))
          .trim()
          .split('\n')
          .map((line) => (JSON.parse(line) as { lineId: number }).lineId);
        if (level === 'strict') assert.deepEqual(lineIds, file.invalidLineNumbers);
        failureLines += lineIds.length;
      }
      assert.equal(failureLines, rejected);
    }
  });

  it('round-trips import then export: every imported resource comes back byte for byte', async () => {
    const { DatastoreId: roundTripId } = await local.healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreName: 'round-trip', DatastoreTypeVersion: 'R4' }),
    );
    await waitForDatastore(local.healthLake, roundTripId!);
    const data = generateFhirData({ patients: 15, seed: 5, maxFileBytes: 60_000 });
    await writeFhirDataToS3(data, local.s3, `s3://${BUCKET}/round-trip/`);
    const imported = await local.healthLake.send(
      new StartFHIRImportJobCommand({ ...importInput('round-trip/'), DatastoreId: roundTripId }),
    );
    const importJob = await waitForImportJob(local.healthLake, roundTripId!, imported.JobId!);
    assert.equal(importJob.JobStatus, 'COMPLETED');
    assert.equal(importJob.JobProgressReport!.TotalNumberOfResourcesImported, data.counts.resources);

    const exported = await local.healthLake.send(
      new StartFHIRExportJobCommand({
        DatastoreId: roundTripId,
        DataAccessRoleArn: ROLE,
        OutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/exports/`, KmsKeyId: KMS } },
      }),
    );
    assert.equal(
      (await waitForExportJob(local.healthLake, roundTripId!, exported.JobId!)).JobStatus,
      'COMPLETED',
    );
    const folder = `exports/${roundTripId}-FHIR_EXPORT-${exported.JobId}/`;
    const keys = await listObjectKeys(local.s3, BUCKET, folder);
    assert.deepEqual(
      keys.map((k) => k.slice(folder.length)).sort(),
      Object.keys(data.counts.byType)
        .map((type) => `${type}/${type}-1.ndjson`)
        .sort(),
    );
    const exportedLines: string[] = [];
    for (const key of keys) exportedLines.push(...(await readText(local, key)).split('\n').filter(Boolean));
    const inputLines = data.files.flatMap((file) => file.content.split('\n').filter(Boolean));
    assert.equal(exportedLines.length, data.counts.resources);
    assert.deepEqual(exportedLines.sort(), inputLines.sort());
  });
});
