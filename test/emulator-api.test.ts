// Every HealthLake operation round-trips through the real SDK: List filters and NextToken
// pagination (with the SDK's paginators), tags, export jobs, timestamps as Dates; plus quotas
// (ThrottlingException the SDK treats as throttling), seeded fault injection, counters and the
// `/_emulator/` control API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  DeleteFHIRDatastoreCommand,
  DescribeFHIRDatastoreCommand,
  DescribeFHIRExportJobCommand,
  HealthLakeServiceException,
  ListFHIRDatastoresCommand,
  ListFHIRExportJobsCommand,
  ListTagsForResourceCommand,
  paginateListFHIRDatastores,
  paginateListFHIRImportJobs,
  StartFHIRExportJobCommand,
  StartFHIRImportJobCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type DatastoreProperties,
  type HealthLakeClient,
  type ImportJobProperties,
} from '@aws-sdk/client-healthlake';
import { seededRandom, startEmulator, type EmulatorHandle } from '../emulator/index';
import { ensureBucket, listObjectKeys, putObjectText } from '../emulator/s3';
import {
  healthLakeClientFor,
  startLocalHealthLake,
  waitForDatastore,
  waitForExportJob,
  waitForImportJob,
  type LocalHealthLake,
} from '../emulator/testing';
import { expectServiceError } from './helpers/service-error';

const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const KMS = 'alias/healthlake';
const BUCKET = 'emulator-api';
const T0 = Date.UTC(2026, 0, 1);

async function collect<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

describe('HealthLake operations round-trip through the real SDK', () => {
  let local: LocalHealthLake;
  let healthLake: HealthLakeClient;
  // The emulator's clock: fixed steps apart so every filter boundary is exact.
  let offsetMs = 0;
  const advance = (ms: number): Date => {
    offsetMs += ms;
    return new Date(T0 + offsetMs);
  };

  before(async () => {
    local = await startLocalHealthLake({
      nowMs: () => T0 + offsetMs,
      quotas: { describeList: { ratePerSecond: 1e6, burst: 1e6 } },
    });
    healthLake = local.healthLake;
    await ensureBucket(local.s3, BUCKET);
  });
  after(async () => {
    await local.stop();
  });

  it('lists data stores with every filter and pages of MaxResults through the SDK paginator', async () => {
    const ids: string[] = [];
    for (const name of ['paged', 'paged', 'other', 'paged', 'paged', 'paged']) {
      advance(10_000);
      ids.push(
        (
          await healthLake.send(
            new CreateFHIRDatastoreCommand({ DatastoreName: name, DatastoreTypeVersion: 'R4' }),
          )
        ).DatastoreId!,
      );
    }
    for (const id of ids) await waitForDatastore(healthLake, id);
    const paged = ids.filter((_, i) => i !== 2);

    const pages = await collect(
      paginateListFHIRDatastores({ client: healthLake, pageSize: 2 }, { Filter: { DatastoreName: 'paged' } }),
    );
    assert.deepEqual(
      pages.map((p) => p.DatastorePropertiesList!.length),
      [2, 2, 1],
    );
    assert.equal(pages.at(-1)!.NextToken, undefined);
    const listed = pages.flatMap((p) => p.DatastorePropertiesList!);
    assert.deepEqual(
      listed.map((d) => d.DatastoreId),
      paged,
    );
    assert.ok(
      listed.every((d: DatastoreProperties) => d.CreatedAt instanceof Date && d.DatastoreStatus === 'ACTIVE'),
    );
    assert.deepEqual(
      listed.map((d) => d.CreatedAt!.getTime()),
      [1, 2, 4, 5, 6].map((n) => T0 + n * 10_000),
    );

    const between = await collect(
      paginateListFHIRDatastores(
        { client: healthLake },
        { Filter: { CreatedAfter: new Date(T0 + 15_000), CreatedBefore: new Date(T0 + 55_000) } },
      ),
    );
    assert.deepEqual(
      between.flatMap((p) => p.DatastorePropertiesList!).map((d) => d.DatastoreId),
      ids.slice(1, 5),
    );
    const byStatus = await collect(
      paginateListFHIRDatastores({ client: healthLake }, { Filter: { DatastoreStatus: 'CREATING' } }),
    );
    assert.deepEqual(
      byStatus.flatMap((p) => p.DatastorePropertiesList!),
      [],
    );
  });

  it('tags a data store by ARN: create-time tags, TagResource, UntagResource, ListTagsForResource', async () => {
    const created = await healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', Tags: [{ Key: 'team', Value: 'data' }] }),
    );
    const arn = created.DatastoreArn!;
    assert.deepEqual((await healthLake.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags, [
      { Key: 'team', Value: 'data' },
    ]);
    await healthLake.send(
      new TagResourceCommand({
        ResourceARN: arn,
        Tags: [
          { Key: 'env', Value: 'test' },
          { Key: 'team', Value: 'fhir' },
        ],
      }),
    );
    assert.deepEqual((await healthLake.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags, [
      { Key: 'team', Value: 'fhir' },
      { Key: 'env', Value: 'test' },
    ]);
    await healthLake.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['team', 'absent'] }));
    assert.deepEqual((await healthLake.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags, [
      { Key: 'env', Value: 'test' },
    ]);
    const unknown = arn.replace(/[0-9a-f]{32}$/, 'f'.repeat(32));
    await expectServiceError(
      healthLake.send(new ListTagsForResourceCommand({ ResourceARN: unknown })),
      'ResourceNotFoundException',
      `Resource ${unknown} does not exist`,
    );
  });

  it('makes CreateFHIRDatastore idempotent by ClientToken and refuses to delete a data store with unfinished jobs', async () => {
    const request = {
      DatastoreName: 'tokened',
      DatastoreTypeVersion: 'R4' as const,
      ClientToken: 'create-token-1',
    };
    const first = await healthLake.send(new CreateFHIRDatastoreCommand(request));
    const again = await healthLake.send(new CreateFHIRDatastoreCommand(request));
    assert.equal(again.DatastoreId, first.DatastoreId);
    await expectServiceError(
      healthLake.send(new CreateFHIRDatastoreCommand({ ...request, DatastoreName: 'other' })),
      'ValidationException',
      `Value 'create-token-1' at 'clientToken' failed to satisfy constraint: ClientToken was already used with a different CreateFHIRDatastore request (data store ${first.DatastoreId})`,
    );
    await expectServiceError(
      healthLake.send(new DeleteFHIRDatastoreCommand({ DatastoreId: first.DatastoreId })),
      'ConflictException',
      `Data store ${first.DatastoreId} is CREATING; only an ACTIVE or CREATE_FAILED data store can be deleted`,
    );
    await waitForDatastore(healthLake, first.DatastoreId!);
    await putObjectText(
      local.s3,
      BUCKET,
      'conflict/in/p.ndjson',
      JSON.stringify({ resourceType: 'Patient', id: 'c1' }),
    );
    const job = await healthLake.send(
      new StartFHIRImportJobCommand({
        DatastoreId: first.DatastoreId,
        InputDataConfig: { S3Uri: `s3://${BUCKET}/conflict/in/` },
        JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/conflict/out/`, KmsKeyId: KMS } },
        DataAccessRoleArn: ROLE,
      }),
    );
    local.emulator.jobs.hang(job.JobId!);
    await expectServiceError(
      healthLake.send(new DeleteFHIRDatastoreCommand({ DatastoreId: first.DatastoreId })),
      'ConflictException',
      `Data store ${first.DatastoreId} has 1 unfinished job(s) (${job.JobId}); delete it when they end`,
    );
    local.emulator.jobs.release(job.JobId!);
    await waitForImportJob(healthLake, first.DatastoreId!, job.JobId!);
    const deleted = await healthLake.send(new DeleteFHIRDatastoreCommand({ DatastoreId: first.DatastoreId }));
    assert.equal(deleted.DatastoreStatus, 'DELETING');
  });

  it('lists import jobs by JobName, JobStatus, SubmittedBefore/After, in pages; runs and lists export jobs', async () => {
    const { DatastoreId: datastoreId } = await healthLake.send(
      new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }),
    );
    await waitForDatastore(healthLake, datastoreId!);
    await putObjectText(
      local.s3,
      BUCKET,
      'jobs/in/patients.ndjson',
      JSON.stringify({ resourceType: 'Patient', id: 'j1' }) + '\n',
    );
    const start = (JobName: string) =>
      healthLake.send(
        new StartFHIRImportJobCommand({
          JobName,
          DatastoreId: datastoreId,
          InputDataConfig: { S3Uri: `s3://${BUCKET}/jobs/in/` },
          JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/jobs/out/`, KmsKeyId: KMS } },
          DataAccessRoleArn: ROLE,
        }),
      );
    const jobIds: string[] = [];
    for (const name of ['alpha', 'beta', 'alpha']) {
      advance(10_000);
      jobIds.push((await start(name)).JobId!);
    }
    for (const jobId of jobIds) await waitForImportJob(healthLake, datastoreId!, jobId);
    const list = async (
      input: Record<string, unknown>,
      pageSize?: number,
    ): Promise<ImportJobProperties[][]> =>
      (
        await collect(
          paginateListFHIRImportJobs(
            { client: healthLake, pageSize },
            { DatastoreId: datastoreId, ...input },
          ),
        )
      ).map((p) => p.ImportJobPropertiesList!);
    const submitted = (await list({})).flat().map((j) => j.SubmitTime!);
    assert.ok(submitted.every((t) => t instanceof Date));
    assert.deepEqual(
      (await list({}, 1)).map((page) => page.map((j) => j.JobId)),
      jobIds.map((id) => [id]),
    );
    assert.deepEqual(
      (await list({ JobName: 'alpha' })).flat().map((j) => j.JobId),
      [jobIds[0], jobIds[2]],
    );
    assert.deepEqual((await list({ JobStatus: 'COMPLETED' })).flat().length, 3);
    assert.deepEqual((await list({ JobStatus: 'QUEUED' })).flat().length, 0);
    assert.deepEqual(
      (
        await list({
          SubmittedAfter: new Date(submitted[0]!.getTime() + 1),
          SubmittedBefore: new Date(submitted[2]!.getTime() - 1),
        })
      )
        .flat()
        .map((j) => j.JobId),
      [jobIds[1]],
    );

    advance(10_000);
    const exported = await healthLake.send(
      new StartFHIRExportJobCommand({
        JobName: 'snapshot',
        DatastoreId: datastoreId,
        OutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/jobs/export/`, KmsKeyId: KMS } },
        DataAccessRoleArn: ROLE,
      }),
    );
    assert.equal(exported.JobStatus, 'SUBMITTED');
    const done = await waitForExportJob(healthLake, datastoreId!, exported.JobId!);
    assert.equal(done.JobStatus, 'COMPLETED');
    assert.equal(done.JobName, 'snapshot');
    assert.ok(done.SubmitTime instanceof Date && done.EndTime instanceof Date);
    const described = await healthLake.send(
      new DescribeFHIRExportJobCommand({ DatastoreId: datastoreId, JobId: exported.JobId }),
    );
    assert.deepEqual(described.ExportJobProperties!.OutputDataConfig, {
      S3Configuration: { S3Uri: `s3://${BUCKET}/jobs/export/`, KmsKeyId: KMS },
    });
    const noBucket = await healthLake.send(
      new StartFHIRExportJobCommand({
        DatastoreId: datastoreId,
        OutputDataConfig: { S3Configuration: { S3Uri: 's3://no-export-bucket/x/', KmsKeyId: KMS } },
        DataAccessRoleArn: ROLE,
      }),
    );
    const failedExport = await waitForExportJob(healthLake, datastoreId!, noBucket.JobId!);
    assert.equal(failedExport.JobStatus, 'FAILED');
    assert.equal(
      failedExport.Message,
      'Output location s3://no-export-bucket/x/ is not accessible: bucket no-export-bucket does not exist',
    );
    const exports = await healthLake.send(
      new ListFHIRExportJobsCommand({ DatastoreId: datastoreId, JobName: 'snapshot' }),
    );
    assert.deepEqual(
      exports.ExportJobPropertiesList!.map((j) => j.JobId),
      [exported.JobId],
    );
    assert.deepEqual(await listObjectKeys(local.s3, BUCKET, 'jobs/export/'), [
      `jobs/export/${datastoreId}-FHIR_EXPORT-${exported.JobId}/Patient/Patient-1.ndjson`,
    ]);
  });
});

describe('quotas, faults, counters and the control API', () => {
  let emulator: EmulatorHandle;
  let frozenMs = T0;
  before(async () => {
    // Frozen clock: token buckets never refill, so exactly `burst` calls pass.
    emulator = await startEmulator({
      preset: 'fast',
      s3Endpoint: 'http://127.0.0.1:9',
      nowMs: () => frozenMs,
      random: seededRandom(7),
    });
  });
  after(async () => {
    await emulator.stop();
  });

  it('throttles a burst of Describe calls over 10 TPS; the SDK sees ThrottlingException as throttling and retries it', async () => {
    const noRetry = healthLakeClientFor(emulator, 1);
    const { DatastoreId } = await noRetry.send(
      new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 15 }, () => noRetry.send(new DescribeFHIRDatastoreCommand({ DatastoreId }))),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
    const throttled = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as HealthLakeServiceException] : [],
    );
    assert.equal(throttled.length, 5);
    for (const err of throttled) {
      assert.equal(err.name, 'ThrottlingException');
      assert.equal(err.message, 'Rate exceeded for DescribeFHIRDatastore');
      // HTTP 400 as the AWS API reference documents it; the SDK still classifies it by name.
      assert.equal(err.$metadata.httpStatusCode, 400);
    }
    // The SDK's standard retry strategy retries throttling: 3 attempts, all throttled here.
    const retrying = healthLakeClientFor(emulator);
    await assert.rejects(retrying.send(new DescribeFHIRDatastoreCommand({ DatastoreId })), (err: unknown) => {
      assert.ok(err instanceof HealthLakeServiceException);
      assert.equal(err.name, 'ThrottlingException');
      assert.equal(err.$metadata.attempts, 3);
      return true;
    });
    assert.deepEqual(emulator.counters().DescribeFHIRDatastore, {
      calls: 18,
      throttled: 8,
      injectedFaults: 0,
      errors: { ThrottlingException: 8 },
    });
    noRetry.destroy();
    retrying.destroy();
    frozenMs += 1_000; // refill for the next test
  });

  it('injects faults per operation with seeded randomness, exactly as the seed predicts', async () => {
    emulator.resetCounters();
    const client = healthLakeClientFor(emulator, 1);
    emulator.faults.set('ListFHIRDatastores', {
      throttleRate: 0.3,
      internalErrorRate: 0.3,
      accessDeniedRate: 0.5,
    });
    const predict = seededRandom(7);
    const expected = Array.from({ length: 8 }, () => {
      if (predict() < 0.3) return 'ThrottlingException';
      if (predict() < 0.3) return 'InternalServerException';
      if (predict() < 0.5) return 'AccessDeniedException';
      return 'ok';
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++)
      outcomes.push(
        await client.send(new ListFHIRDatastoresCommand({})).then(
          () => 'ok',
          (err: Error) => err.name,
        ),
      );
    assert.deepEqual(outcomes, expected);
    const injected = expected.filter((o) => o !== 'ok');
    assert.equal(emulator.counters().ListFHIRDatastores!.injectedFaults, injected.length);
    emulator.faults.clear();
    client.destroy();
  });

  it('serves counters, faults, jobs and settings on /_emulator/', async () => {
    const control = (path: string, method = 'GET', body?: unknown) =>
      fetch(`${emulator.url}/_emulator/${path}`, {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => [r.status, await r.json()] as const);
    assert.deepEqual(await control('health'), [200, { ok: true }]);
    assert.deepEqual(
      await control('faults/DescribeFHIRImportJob', 'PUT', { latencyMs: 5, throttleRate: 1 }),
      [200, { DescribeFHIRImportJob: { latencyMs: 5, throttleRate: 1 } }],
    );
    assert.deepEqual(await control('faults/X', 'PUT', { throttleRate: 2 }), [
      400,
      { error: 'fault X.throttleRate 2 must be a number in [0, 1]' },
    ]);
    assert.deepEqual(await control('faults', 'DELETE'), [200, {}]);
    assert.deepEqual(await control('faults'), [200, {}]);
    assert.deepEqual(await control('counters', 'DELETE'), [200, {}]);
    assert.deepEqual(await control('counters'), [200, {}]);
    assert.deepEqual(await control('jobs'), [200, { jobs: [] }]);
    assert.deepEqual(await control(`jobs/${'f'.repeat(32)}/fail`, 'POST', { message: 'x' }), [
      409,
      { error: `job ${'f'.repeat(32)} cannot fail: unknown, finished, or not hung` },
    ]);
    const [status, settings] = await control('settings', 'PATCH', { speed: { progressRefreshMs: 10 } });
    assert.equal(status, 200);
    assert.equal((settings as { speed: { progressRefreshMs: number } }).speed.progressRefreshMs, 10);
    assert.deepEqual(await control('nope'), [404, { error: 'no control endpoint GET /_emulator/nope' }]);
  });
});
