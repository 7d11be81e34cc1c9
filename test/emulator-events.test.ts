// The emulator's EventBridge events on a real SQS queue (moto's server mode, the same server as
// S3): the envelope AWS delivers to an SQS target, one event per status change of a job or a data
// store, and the fault knob (drop, delay, duplicate) over the handle and the control API.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateFHIRDatastoreCommand,
  DeleteFHIRDatastoreCommand,
  StartFHIRImportJobCommand,
  StartFHIRExportJobCommand,
} from '@aws-sdk/client-healthlake';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import {
  startEmulator,
  type HealthLakeEventEnvelope,
  type HealthLakeJobEventEnvelope,
} from '../emulator/index';
import {
  healthLakeClientFor,
  startLocalHealthLake,
  waitForDatastore,
  waitForExportJob,
  waitForImportJob,
  type LocalHealthLake,
} from '../emulator/testing';

const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const BUCKET = 'emulator-events';

/** Checks the EventBridge envelope of an event about data store `datastoreId` (not its detail). */
function assertEnvelope(event: HealthLakeEventEnvelope, datastoreId: string): void {
  assert.deepEqual(Object.keys(event).sort(), [
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
  assert.equal(event.version, '0');
  assert.equal(event.source, 'aws.healthlake');
  assert.equal(event.account, '123456789012');
  assert.equal(event.region, 'us-east-1');
  assert.match(event.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(event.resources, [
    `arn:aws:healthlake:us-east-1:123456789012:datastore/fhir/${datastoreId}`,
  ]);
}

describe('emulator EventBridge events to SQS', () => {
  let local: LocalHealthLake;
  let datastoreId: string;
  const data = generateFhirData({ patients: 3, seed: 5, maxFileBytes: 50_000 });

  /** Receives every message now in the queue (deleting them), in arrival order. */
  async function drain<Envelope = HealthLakeJobEventEnvelope>(): Promise<Envelope[]> {
    await local.emulator.events.flushed();
    const out: Envelope[] = [];
    for (;;) {
      const { Messages = [] } = await local.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: local.eventsQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) return out;
      out.push(...Messages.map((m) => JSON.parse(m.Body!) as Envelope));
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
    const before = local.emulator.events.counters();
    const jobId = await startImport();
    const job = await finished(jobId);
    const events = await drain();
    assert.deepEqual(
      events.map((e) => e['detail-type']),
      ['Import Job Submitted', 'Import Job In Progress', 'Import Job Completed'],
    );
    const completed = events[2]!;
    assertEnvelope(completed, datastoreId);
    assert.deepEqual(completed.detail, {
      datastoreId,
      jobId,
      submitTime: job.SubmitTime!.toISOString(),
      inputDataConfig: { s3Uri: `s3://${BUCKET}/in/` },
    });
    assert.equal(new Set(events.map((e) => e.id)).size, 3);
    // The data store created in `before` sent its own two events (Creating, Active) before these.
    assert.deepEqual(before, { sent: 2, dropped: 0, duplicated: 0, delayed: 0, failed: 0 });
    assert.deepEqual(local.emulator.events.counters(), {
      sent: 5,
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

  describe('data store events', () => {
    /** The detail every event of a data store carries (`datastoreName` only when it has one). */
    const storeDetail = (id: string, name?: string) => ({
      datastoreId: id,
      ...(name === undefined ? {} : { datastoreName: name }),
      datastoreTypeVersion: 'R4',
      datastoreEndpoint: `https://healthlake.us-east-1.amazonaws.com/datastore/${id}/r4/`,
    });
    const createStore = async (name?: string): Promise<string> =>
      (
        await local.healthLake.send(
          new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: name }),
        )
      ).DatastoreId!;
    const deleteStore = async (id: string): Promise<void> => {
      await local.healthLake.send(new DeleteFHIRDatastoreCommand({ DatastoreId: id }));
      await waitForDatastore(local.healthLake, id, 'DELETED');
    };
    const sinceBefore = (before: ReturnType<typeof local.emulator.events.counters>) => {
      const after = local.emulator.events.counters();
      return { sent: after.sent - before.sent, dropped: after.dropped - before.dropped };
    };

    it('creating and deleting a data store sends Creating, Active, Deleting, Deleted with the documented detail', async () => {
      const before = local.emulator.events.counters();
      const id = await createStore('events-store');
      await waitForDatastore(local.healthLake, id);
      const created = await drain<HealthLakeEventEnvelope>();
      assert.deepEqual(
        created.map((e) => e['detail-type']),
        ['Data Store Creating', 'Data Store Active'],
      );
      for (const event of created) {
        assertEnvelope(event, id);
        assert.deepEqual(event.detail, storeDetail(id, 'events-store'));
      }
      assert.notEqual(created[0]!.id, created[1]!.id);

      await deleteStore(id);
      const deleted = await drain<HealthLakeEventEnvelope>();
      assert.deepEqual(
        deleted.map((e) => [e['detail-type'], e.detail]),
        ['Data Store Deleting', 'Data Store Deleted'].map((type) => [type, storeDetail(id, 'events-store')]),
      );
      assert.deepEqual(sinceBefore(before), { sent: 4, dropped: 0 });
    });

    it('a data store whose creation fails sends Creating, then Creation Failed', async () => {
      local.emulator.datastores.failCreate('events-doomed', { ErrorMessage: 'capacity' });
      const id = await createStore('events-doomed');
      await waitForDatastore(local.healthLake, id, 'CREATE_FAILED');
      const events = await drain<HealthLakeEventEnvelope>();
      assert.deepEqual(
        events.map((e) => [e['detail-type'], e.detail]),
        ['Data Store Creating', 'Data Store Creation Failed'].map((type) => [
          type,
          storeDetail(id, 'events-doomed'),
        ]),
      );
      await deleteStore(id);
      assert.deepEqual(
        (await drain()).map((e) => e['detail-type']),
        ['Data Store Deleting', 'Data Store Deleted'],
      );
    });

    it('a fault rule dropping Data Store Active drops exactly that event (a store without a name has no datastoreName)', async () => {
      local.emulator.events.setFaults([{ detailTypes: ['Data Store Active'], drop: true }]);
      try {
        const before = local.emulator.events.counters();
        const id = await createStore();
        await waitForDatastore(local.healthLake, id);
        const events = await drain<HealthLakeEventEnvelope>();
        assert.deepEqual(
          events.map((e) => [e['detail-type'], e.detail]),
          [['Data Store Creating', storeDetail(id)]],
        );
        await deleteStore(id);
        assert.deepEqual(
          (await drain()).map((e) => e['detail-type']),
          ['Data Store Deleting', 'Data Store Deleted'],
        );
        assert.deepEqual(sinceBefore(before), { sent: 3, dropped: 1 });
      } finally {
        local.emulator.events.setFaults([]);
      }
    });

    it('a data store still CREATING when the emulator stops sends Active after the restart, Creating only once', async () => {
      const options = {
        preset: 'fast',
        dataDir: mkdtempSync(join(tmpdir(), 'thl-events-restart-')),
        s3Endpoint: local.s3Server.endpoint,
        eventsSqsQueueUrl: local.eventsQueueUrl,
      } as const;
      const first = await startEmulator({ ...options, speed: { datastoreCreateMs: 3_600_000 } });
      const firstClient = healthLakeClientFor(first);
      const id = (
        await firstClient.send(
          new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: 'events-restart' }),
        )
      ).DatastoreId!;
      firstClient.destroy();
      await first.stop();
      assert.deepEqual(
        (await drain<HealthLakeEventEnvelope>()).map((e) => [e['detail-type'], e.detail]),
        [['Data Store Creating', storeDetail(id, 'events-restart')]],
      );

      // The create delay is over at once: the restarted lifecycle finishes the transition.
      const second = await startEmulator({ ...options, speed: { datastoreCreateMs: 0 } });
      const secondClient = healthLakeClientFor(second);
      try {
        await waitForDatastore(secondClient, id);
        await second.events.flushed();
        assert.deepEqual(
          (await drain<HealthLakeEventEnvelope>()).map((e) => [e['detail-type'], e.detail]),
          [['Data Store Active', storeDetail(id, 'events-restart')]],
        );
        assert.deepEqual(second.events.counters(), {
          sent: 1,
          dropped: 0,
          duplicated: 0,
          delayed: 0,
          failed: 0,
        });
      } finally {
        secondClient.destroy();
        await second.stop();
      }
    });
  });
});
