// The emulator keeps its state under a data directory: a restarted emulator knows every data
// store, job and resource, and a job that was running when it stopped resumes and ends.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  ListFHIRImportJobsCommand,
  ListTagsForResourceCommand,
  StartFHIRExportJobCommand,
  StartFHIRImportJobCommand,
  type HealthLakeClient,
} from '@aws-sdk/client-healthlake';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import { startEmulator, type EmulatorHandle } from '../emulator/index';
import { createS3Client, listObjectKeys, readObjectLines } from '../emulator/s3';
import { startS3Server, type S3ServerHandle } from '../emulator/s3-server';
import { openFileResourceStore } from '../emulator/state/resource-store';
import {
  healthLakeClientFor,
  waitForDatastore,
  waitForExportJob,
  waitForImportJob,
} from '../emulator/testing';

const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const BUCKET = 'emulator-persist';

describe('resource log', () => {
  it('keeps the last version of each resource across reopen, and compacts superseded lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thl-resources-'));
    const log = () => readFileSync(join(dir, 'ds1.ndjson'), 'utf8');
    const first = await openFileResourceStore(dir, { compactionMinLines: 4, compactionRatio: 1.5 });
    assert.equal(first.upsert('ds1', 'Patient', 'p1', '{"v":1}'), 'created');
    assert.equal(first.upsert('ds1', 'Patient', 'p1', '{"v":2}'), 'updated');
    assert.equal(first.upsert('ds1', 'Observation', 'o1', '{"v":1}'), 'created');
    first.flush();
    // 3 lines: under the 4-line minimum, left as appended.
    assert.equal(log(), 'Patient\tp1\t{"v":1}\nPatient\tp1\t{"v":2}\nObservation\to1\t{"v":1}\n');
    assert.equal(first.upsert('ds1', 'Patient', 'p1', '{"v":3}'), 'updated');
    first.flush();
    // 4 lines for 2 live resources (over 1.5x): rewritten with the live ones only.
    assert.equal(log(), 'Patient\tp1\t{"v":3}\nObservation\to1\t{"v":1}\n');
    first.upsert('ds1', 'Patient', 'p2', '{"v":1}');
    first.close();
    const second = await openFileResourceStore(dir);
    assert.equal(second.count('ds1'), 3);
    assert.equal(second.byType('ds1').get('Patient')!.get('p1'), '{"v":3}');
    assert.equal(second.byType('ds1').get('Patient')!.get('p2'), '{"v":1}');
    second.close();
  });
});

describe('emulator restart on the same data directory', () => {
  let s3Server: S3ServerHandle;
  const dataDir = mkdtempSync(join(tmpdir(), 'thl-emulator-'));
  const data = generateFhirData({ patients: 6, seed: 21, maxFileBytes: 25_000 });
  const start = (speed: Record<string, number | null> = {}) =>
    startEmulator({ preset: 'fast', dataDir, s3Endpoint: s3Server.endpoint, speed });

  before(async () => {
    s3Server = await startS3Server();
    const s3 = createS3Client({ endpoint: s3Server.endpoint });
    await writeFhirDataToS3(data, s3, `s3://${BUCKET}/in/`);
    s3.destroy();
  });
  after(async () => {
    await s3Server.stop();
  });

  it('knows every data store, job and resource, and finishes a job that was running at stop', async () => {
    let emulator: EmulatorHandle = await start();
    let healthLake: HealthLakeClient = healthLakeClientFor(emulator);
    const importRequest = (datastoreId: string, JobName: string) =>
      new StartFHIRImportJobCommand({
        JobName,
        DatastoreId: datastoreId,
        InputDataConfig: { S3Uri: `s3://${BUCKET}/in/` },
        JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/out/`, KmsKeyId: 'alias/x' } },
        DataAccessRoleArn: ROLE,
      });
    const created = await healthLake.send(
      new CreateFHIRDatastoreCommand({
        DatastoreName: 'kept',
        DatastoreTypeVersion: 'R4',
        Tags: [{ Key: 'k', Value: 'v' }],
      }),
    );
    const datastoreId = created.DatastoreId!;
    await waitForDatastore(healthLake, datastoreId);
    const finished = await healthLake.send(importRequest(datastoreId, 'before-restart'));
    const finishedJob = await waitForImportJob(healthLake, datastoreId, finished.JobId!);
    assert.equal(finishedJob.JobStatus, 'COMPLETED');

    // A second import into a second data store, slowed down and stopped mid-run.
    const otherId = (await healthLake.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' })))
      .DatastoreId!;
    await waitForDatastore(healthLake, otherId);
    emulator.updateSettings({ speed: { resourcesPerSecond: data.counts.resources / 3 } });
    const interrupted = await healthLake.send(importRequest(otherId, 'interrupted'));
    const midway = await waitForImportJob(
      healthLake,
      otherId,
      interrupted.JobId!,
      (job) => (job.JobProgressReport?.TotalNumberOfResourcesScanned ?? 0) > 0,
    );
    assert.equal(midway.JobStatus, 'IN_PROGRESS');
    healthLake.destroy();
    await emulator.stop();

    emulator = await start();
    healthLake = healthLakeClientFor(emulator);
    try {
      const { DatastoreProperties } = await healthLake.send(
        new DescribeFHIRDatastoreCommand({ DatastoreId: datastoreId }),
      );
      assert.equal(DatastoreProperties!.DatastoreName, 'kept');
      assert.equal(DatastoreProperties!.DatastoreStatus, 'ACTIVE');
      assert.deepEqual(
        (await healthLake.send(new ListTagsForResourceCommand({ ResourceARN: created.DatastoreArn }))).Tags,
        [{ Key: 'k', Value: 'v' }],
      );
      const resumed = await waitForImportJob(healthLake, otherId, interrupted.JobId!);
      assert.equal(resumed.JobStatus, 'COMPLETED');
      assert.equal(resumed.JobProgressReport!.TotalNumberOfResourcesImported, data.counts.resources);
      assert.equal(emulator.jobs.list().find((j) => j.jobId === interrupted.JobId)!.restarts, 1);
      const jobs = await healthLake.send(new ListFHIRImportJobsCommand({ DatastoreId: datastoreId }));
      assert.deepEqual(
        jobs.ImportJobPropertiesList!.map((j) => [j.JobName, j.JobStatus]),
        [['before-restart', 'COMPLETED']],
      );
      assert.deepEqual(jobs.ImportJobPropertiesList![0]!.JobProgressReport, finishedJob.JobProgressReport);

      // Every resource imported before the restart survived: an export now returns all of them.
      const exported = await healthLake.send(
        new StartFHIRExportJobCommand({
          DatastoreId: datastoreId,
          DataAccessRoleArn: ROLE,
          OutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/export/`, KmsKeyId: 'alias/x' } },
        }),
      );
      assert.equal((await waitForExportJob(healthLake, datastoreId, exported.JobId!)).JobStatus, 'COMPLETED');
      let lines = 0;
      for (const key of await listObjectKeys(emulator.s3, BUCKET, 'export/'))
        for await (const line of readObjectLines(emulator.s3, BUCKET, key)) if (line) lines += 1;
      assert.equal(lines, data.counts.resources);
    } finally {
      healthLake.destroy();
      await emulator.stop();
    }
  });
});
