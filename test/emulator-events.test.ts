// The emulator's EventBridge job events on a real SQS queue (moto's server mode, the same server as
// S3): the envelope AWS delivers to an SQS target, one event per status change, and the fault knob
// (drop, delay, duplicate) over the handle and the control API.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  StartFHIRImportJobCommand,
  StartFHIRExportJobCommand,
} from '@aws-sdk/client-healthlake';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import type { HealthLakeJobEventEnvelope } from '../emulator/index';
import {
  startLocalHealthLake,
  waitForDatastore,
  waitForExportJob,
  waitForImportJob,
  type LocalHealthLake,
} from '../emulator/testing';

const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const BUCKET = 'emulator-events';

describe('emulator job events to SQS', () => {
  let local: LocalHealthLake;
  let datastoreId: string;
  const data = generateFhirData({ patients: 3, seed: 5, maxFileBytes: 50_000 });

  /** Receives every message now in the queue (deleting them), in arrival order. */
  async function drain(): Promise<HealthLakeJobEventEnvelope[]> {
    await local.emulator.events.flushed();
    const out: HealthLakeJobEventEnvelope[] = [];
    for (;;) {
      const { Messages = [] } = await local.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: local.eventsQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) return out;
      out.push(...Messages.map((m) => JSON.parse(m.Body!) as HealthLakeJobEventEnvelope));
      await local.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: local.eventsQueueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  const startImport = async (): Promise<string> =>
    (
      await local.healthLake.send(
        new StartFHIRImportJobCommand({
          DatastoreId: datastoreId,
          InputDataConfig: { S3Uri: `s3://${BUCKET}/in/` },
          JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/out/`, KmsKeyId: 'alias/x' } },
          DataAccessRoleArn: ROLE,
          ValidationLevel: 'minimal',
        }),
      )
    ).JobId!;
  const finished = (jobId: string) => waitForImportJob(local.healthLake, datastoreId, jobId);

  before(async () => {
    local = await startLocalHealthLake({ eventsQueueName: 'healthlake-events' });
    await writeFhirDataToS3(data, local.s3, `s3://${BUCKET}/in/`);
    datastoreId = (
      await local.healthLake.send(new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4' }))
    ).DatastoreId!;
    await waitForDatastore(local.healthLake, datastoreId);
    await drain();
  });
  after(async () => {
    await local?.stop();
  });

  it('sends one EventBridge envelope per status change of an import, as the SQS message body', async () => {
    const jobId = await startImport();
    const job = await finished(jobId);
    const events = await drain();
    assert.deepEqual(
      events.map((e) => e['detail-type']),
      ['Import Job Submitted', 'Import Job In Progress', 'Import Job Completed'],
    );
    const completed = events[2]!;
    assert.deepEqual(Object.keys(completed).sort(), [
      'account',
      'detail',
      'detail-type',
      'id',
      'region',
      'resources',
      'source',
      'time',
      'version',
    ]);
    assert.equal(completed.version, '0');
    assert.equal(completed.source, 'aws.healthlake');
    assert.equal(completed.account, '123456789012');
    assert.equal(completed.region, 'us-east-1');
    assert.match(completed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(completed.resources, [
      `arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/${datastoreId}`,
    ]);
    assert.deepEqual(completed.detail, {
      datastoreId,
      jobId,
      submitTime: job.SubmitTime!.toISOString(),
      inputDataConfig: { s3Uri: `s3://${BUCKET}/in/` },
    });
    assert.equal(new Set(events.map((e) => e.id)).size, 3);
    assert.deepEqual(local.emulator.events.counters(), {
      sent: 3,
      dropped: 0,
      duplicated: 0,
      delayed: 0,
      failed: 0,
    });
  });

  it('export jobs send the Export Job detail-types without inputDataConfig', async () => {
    const { JobId } = await local.healthLake.send(
      new StartFHIRExportJobCommand({
        DatastoreId: datastoreId,
        OutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/export/`, KmsKeyId: 'alias/x' } },
        DataAccessRoleArn: ROLE,
      }),
    );
    await waitForExportJob(local.healthLake, datastoreId, JobId!);
    const events = await drain();
    assert.deepEqual(
      events.map((e) => [e['detail-type'], e.detail.jobId, 'inputDataConfig' in e.detail]),
      [
        ['Export Job Submitted', JobId, false],
        ['Export Job In Progress', JobId, false],
        ['Export Job Completed', JobId, false],
      ],
    );
  });

  it('drops, duplicates and delays events by detail-type (the handle)', async () => {
    local.emulator.events.setFaults([
      { detailTypes: ['Import Job Submitted'], drop: true },
      { detailTypes: ['Import Job In Progress'], delayMs: 1_500 },
      { detailTypes: ['Import Job Completed'], duplicates: 2 },
    ]);
    try {
      const before = local.emulator.events.counters();
      const jobId = await startImport();
      await finished(jobId);
      const events = await drain();
      // The delayed In Progress arrives after the Completed copies: out of order, as SQS allows.
      assert.deepEqual(
        events.map((e) => e['detail-type']),
        ['Import Job Completed', 'Import Job Completed', 'Import Job Completed', 'Import Job In Progress'],
      );
      assert.equal(new Set(events.slice(0, 3).map((e) => e.id)).size, 1, 'copies keep the event id');
      const after = local.emulator.events.counters();
      assert.deepEqual(
        {
          sent: after.sent - before.sent,
          dropped: after.dropped - before.dropped,
          duplicated: after.duplicated - before.duplicated,
          delayed: after.delayed - before.delayed,
        },
        { sent: 4, dropped: 1, duplicated: 2, delayed: 1 },
      );
    } finally {
      local.emulator.events.setFaults([]);
    }
  });

  it('the control API sets, lists and clears the fault rules, and names a bad field', async () => {
    const url = `${local.emulator.url}/_emulator/events`;
    const put = await fetch(`${url}/faults`, {
      method: 'PUT',
      body: JSON.stringify({ rules: [{ drop: true }] }),
    });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { faults: [{ drop: true }] });
    const jobId = await startImport();
    await finished(jobId);
    assert.deepEqual(await drain(), []);
    const got = (await (await fetch(url)).json()) as { queueUrl: string; faults: unknown };
    assert.equal(got.queueUrl, local.eventsQueueUrl);
    assert.deepEqual(got.faults, [{ drop: true }]);
    const bad = await fetch(`${url}/faults`, {
      method: 'PUT',
      body: JSON.stringify({ rules: [{ delayMs: -5 }] }),
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: 'events faults: rules[0].delayMs -5 must be an integer in 0..3600000',
    });
    assert.equal((await fetch(`${url}/faults`, { method: 'DELETE' })).status, 200);
    assert.deepEqual(local.emulator.events.faults(), []);
  });
});
