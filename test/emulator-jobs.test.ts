// Job and quota knobs through the real SDK: progress refreshed while an import runs at a set
// speed, jobs forced to FAILED or held and released, and the per-data-store queue, data-store
// count and create/delete rate quotas answered with ThrottlingException.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  DeleteFHIRDatastoreCommand,
  StartFHIRImportJobCommand,
} from '@aws-sdk/client-healthlake';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import {
  healthLakeClientFor,
  startLocalHealthLake,
  waitForDatastore,
  waitForImportJob,
  type LocalHealthLake,
} from '../emulator/testing';
import { expectServiceError } from './helpers/service-error';

const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const BUCKET = 'emulator-jobs';

const expectThrottled = (call: Promise<unknown>, message: string) =>
  expectServiceError(call, 'ThrottlingException', message);

describe('emulator job knobs and quotas', () => {
  let local: LocalHealthLake;
  let datastoreId: string;
  const data = generateFhirData({ patients: 4, seed: 3, maxFileBytes: 20_000 });
  const start = () =>
    local.healthLake.send(
      new StartFHIRImportJobCommand({
        DatastoreId: datastoreId,
        InputDataConfig: { S3Uri: `s3://${BUCKET}/in/` },
        JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/out/`, KmsKeyId: 'alias/x' } },
        DataAccessRoleArn: ROLE,
        ValidationLevel: 'minimal',
      }),
    );

  before(async () => {
    local = await startLocalHealthLake({
      quotas: {
        maxQueuedJobsPerDatastore: 2,
        maxDatastores: 3,
        datastoreCreateDelete: { ratePerSecond: 0.001, burst: 5 },
      },
    });
    await writeFhirDataToS3(data, local.s3, `s3://${BUCKET}/in/`);
    datastoreId = (
      await local.healthLake.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }))
    ).DatastoreId!;
    await waitForDatastore(local.healthLake, datastoreId);
  });
  after(async () => {
    await local.stop();
  });

  it('refreshes JobProgressReport while an import runs at a set speed', async () => {
    local.emulator.updateSettings({
      speed: { resourcesPerSecond: data.counts.resources / 2, progressRefreshMs: 50 },
    });
    try {
      const { JobId } = await start();
      const midway = await waitForImportJob(local.healthLake, datastoreId, JobId!, (job) => {
        const scanned = job.JobProgressReport?.TotalNumberOfResourcesScanned ?? 0;
        if (['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED'].includes(job.JobStatus!)) return true;
        return job.JobStatus === 'IN_PROGRESS' && scanned > 0 && scanned < data.counts.resources;
      });
      assert.equal(midway.JobStatus, 'IN_PROGRESS');
      assert.ok(midway.JobProgressReport!.TotalNumberOfResourcesScanned! < data.counts.resources);
      const done = await waitForImportJob(local.healthLake, datastoreId, JobId!);
      assert.equal(done.JobStatus, 'COMPLETED');
      assert.equal(done.JobProgressReport!.TotalNumberOfResourcesImported, data.counts.resources);
    } finally {
      local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
    }
  });

  it('forces a held job to FAILED with a message, and lets a held job go on release', async () => {
    const held = await start();
    assert.equal(local.emulator.jobs.hang(held.JobId!), true);
    const failing = await start();
    assert.equal(failing.JobStatus, 'QUEUED');
    assert.equal(local.emulator.jobs.fail(failing.JobId!, 'forced by test'), true);
    const failed = await waitForImportJob(local.healthLake, datastoreId, failing.JobId!);
    assert.equal(failed.JobStatus, 'FAILED');
    assert.equal(failed.Message, 'forced by test');
    assert.equal(local.emulator.jobs.release(held.JobId!), true);
    assert.equal(local.emulator.jobs.release(held.JobId!), false);
    assert.equal((await waitForImportJob(local.healthLake, datastoreId, held.JobId!)).JobStatus, 'COMPLETED');

    // A running job, held mid-run through the control API, then failed through it.
    local.emulator.updateSettings({ speed: { resourcesPerSecond: data.counts.resources / 2 } });
    try {
      const running = await start();
      await waitForImportJob(
        local.healthLake,
        datastoreId,
        running.JobId!,
        (job) => job.JobStatus === 'IN_PROGRESS',
      );
      const post = (action: string, body?: unknown) =>
        fetch(`${local.emulator.url}/_emulator/jobs/${running.JobId}/${action}`, {
          method: 'POST',
          body: JSON.stringify(body ?? {}),
        }).then((r) => r.status);
      assert.equal(await post('hang'), 200);
      assert.equal(local.emulator.jobs.list().find((j) => j.jobId === running.JobId)!.hung, true);
      assert.equal(await post('fail', { message: 'operator stop' }), 200);
      const job = await waitForImportJob(local.healthLake, datastoreId, running.JobId!);
      assert.equal(job.JobStatus, 'FAILED');
      assert.equal(job.Message, 'operator stop');
      assert.ok(job.EndTime instanceof Date);
    } finally {
      local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
    }
  });

  it('throttles a start beyond the queued-jobs quota of a data store', async () => {
    const running = await start();
    local.emulator.jobs.hang(running.JobId!);
    const queued = [await start(), await start()];
    assert.deepEqual(
      queued.map((j) => j.JobStatus),
      ['QUEUED', 'QUEUED'],
    );
    await expectThrottled(start(), `Data store ${datastoreId} already has 2 queued import jobs (limit 2)`);
    local.emulator.jobs.release(running.JobId!);
    for (const job of [running, ...queued])
      assert.equal(
        (await waitForImportJob(local.healthLake, datastoreId, job.JobId!)).JobStatus,
        'COMPLETED',
      );
  });

  it('throttles data stores beyond the account quota and the create/delete rate', async () => {
    // One attempt per call: the SDK would retry a ThrottlingException, spending more of the rate.
    const client = healthLakeClientFor(local.emulator, 1);
    const create = () => client.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }));
    // One created in before(); two more reach the quota of 3.
    const second = await create();
    await create();
    await expectThrottled(
      create(),
      'Data store quota exceeded: account 123456789012 already has 3 data stores (limit 3)',
    );
    await waitForDatastore(local.healthLake, second.DatastoreId!);
    await client.send(new DeleteFHIRDatastoreCommand({ DatastoreId: second.DatastoreId }));
    // The burst of 5 is spent (4 creates, the refused one included, and 1 delete): the next is throttled.
    await expectThrottled(create(), 'Rate exceeded for CreateFHIRDatastore');
    client.destroy();
  });
});
