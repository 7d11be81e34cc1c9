// Acceptance tests of the data store lifecycle workflows on real parts: a Temporal dev server, the
// worker pair, the HealthLake emulator (fast preset: creation and deletion take 50 ms) over HTTP
// through the real SDK client, and moto S3.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeFHIRDatastoreCommand, ListTagsForResourceCommand } from '@aws-sdk/client-healthlake';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { DeleteFhirDatastoreInput, EnsureFhirDatastoreInput } from '../workflows/datastore-types';
import type { ephemeralStoreImportWorkflow } from './fixtures/lifecycle-workflows';
import {
  BUCKET,
  FAST_POLL,
  KMS,
  ROLE,
  startImportTestStack,
  uniqueName,
  type ImportTestStack,
} from './helpers/import-env';

let stack: ImportTestStack;
let bundle: WorkflowBundle;
const ACCOUNT = '123456789012';

before(async () => {
  [stack, bundle] = await Promise.all([
    startImportTestStack(),
    bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/lifecycle-workflows'),
      logger: {
        log() {},
        trace() {},
        debug() {},
        info() {},
        warn() {},
        error: (m: string) => console.error(m),
      },
    }),
  ]);
});
after(async () => {
  await stack?.stop();
});

async function run<R>(
  label: string,
  workflowType: string,
  input: unknown,
): Promise<{ result?: R; failure?: ApplicationFailure }> {
  const taskQueue = uniqueName(label);
  const worker = await stack.worker(taskQueue, { workflowBundle: bundle });
  return worker.runUntil(
    (async () => {
      const handle = await stack.temporal.env.client.workflow.start(workflowType, {
        taskQueue,
        workflowId: taskQueue,
        args: [input],
      });
      try {
        return { result: (await handle.result()) as R };
      } catch (err) {
        assert.ok(err instanceof WorkflowFailedError, String(err));
        assert.ok(err.cause instanceof ApplicationFailure, String(err.cause));
        return { failure: err.cause };
      }
    })(),
  );
}

async function statusOf(datastoreId: string): Promise<string | undefined> {
  const { DatastoreProperties } = await stack.healthLake.send(
    new DescribeFHIRDatastoreCommand({ DatastoreId: datastoreId }),
  );
  return DatastoreProperties?.DatastoreStatus;
}

describe('data store lifecycle workflows on the emulator', () => {
  it('create → ACTIVE → import → delete → DELETED as one pipeline of child workflows', async () => {
    const data = await stack.land('ephemeral', 2);
    const name = uniqueName('ephemeral-store');
    stack.local.emulator.resetCounters();
    const { result, failure } = await run<Awaited<ReturnType<typeof ephemeralStoreImportWorkflow>>>(
      'ephemeral',
      'ephemeralStoreImportWorkflow',
      {
        ensure: { datastoreName: name, tags: { team: 'fhir', purpose: 'test' }, pollPolicy: FAST_POLL },
        import: {
          inputS3Uri: `s3://${BUCKET}/ephemeral/`,
          outputS3Uri: `s3://${BUCKET}/out/ephemeral`,
          kmsKeyId: KMS,
          dataAccessRoleArn: ROLE,
          pollPolicy: FAST_POLL,
        },
      },
    );
    assert.equal(failure, undefined, failure?.message);
    assert.ok(result);
    const id = result.ensured.datastoreId;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.deepEqual(result.ensured, {
      datastoreId: id,
      datastoreArn: `arn:aws:healthlake:us-east-1:${ACCOUNT}:datastore/fhir/${id}`,
      datastoreEndpoint: `https://healthlake.us-east-1.amazonaws.com/datastore/${id}/r4/`,
      datastoreName: name,
      status: 'ACTIVE',
      how: 'created',
      describeCalls: result.ensured.describeCalls,
    });
    assert.ok(result.ensured.describeCalls >= 1);
    assert.equal(result.imported.status, 'COMPLETED');
    assert.equal(result.imported.datastoreId, id);
    assert.equal(result.imported.progress.counts.resourcesImported, data.counts.resources);
    assert.deepEqual(
      { ...result.deleted, describeCalls: 0 },
      { datastoreId: id, status: 'DELETED', how: 'deleted', describeCalls: 0 },
    );
    const counters = stack.local.emulator.counters();
    assert.equal(counters.CreateFHIRDatastore?.calls, 1);
    assert.equal(counters.DeleteFHIRDatastore?.calls, 1);
    // Every Describe of the store was counted by one of the two waits (and the delete's first look).
    assert.equal(
      counters.DescribeFHIRDatastore?.calls,
      result.ensured.describeCalls + result.deleted.describeCalls,
    );
    assert.equal(await statusOf(id), 'DELETED');
  });

  it('ensure finds an ACTIVE store by name instead of creating a second one', async () => {
    const name = uniqueName('existing-store');
    const existing = await stack.newDatastore(name);
    stack.local.emulator.resetCounters();
    const { result } = await run<{ datastoreId: string; how: string }>(
      'ensure-found',
      'ensureFhirDatastoreWorkflow',
      {
        datastoreName: name,
        pollPolicy: FAST_POLL,
      } satisfies EnsureFhirDatastoreInput,
    );
    assert.equal(result?.datastoreId, existing);
    assert.equal(result?.how, 'found');
    assert.equal(stack.local.emulator.counters().CreateFHIRDatastore, undefined);
  });

  it('a created store carries the tags, SSE settings and Synthea preload asked for', async () => {
    const name = uniqueName('tagged-store');
    const { result } = await run<{ datastoreId: string; datastoreArn: string; how: string }>(
      'ensure-tags',
      'ensureFhirDatastoreWorkflow',
      {
        datastoreName: name,
        tags: { team: 'fhir', purpose: 'test' },
        sse: { cmkType: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: KMS },
        preloadSynthea: true,
        pollPolicy: FAST_POLL,
      } satisfies EnsureFhirDatastoreInput,
    );
    assert.ok(result);
    assert.equal(result.how, 'created');
    const tags = await stack.healthLake.send(
      new ListTagsForResourceCommand({ ResourceARN: result.datastoreArn }),
    );
    assert.deepEqual((tags.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).sort(), [
      'purpose=test',
      'team=fhir',
    ]);
    const { DatastoreProperties: props } = await stack.healthLake.send(
      new DescribeFHIRDatastoreCommand({ DatastoreId: result.datastoreId }),
    );
    assert.deepEqual(props?.SseConfiguration, {
      KmsEncryptionConfig: { CmkType: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: KMS },
    });
    assert.deepEqual(props?.PreloadDataConfig, { PreloadDataType: 'SYNTHEA' });
    assert.equal(props?.DatastoreStatus, 'ACTIVE');
  });

  it('CREATE_FAILED → HealthLakeDatastoreCreateFailed with the service ErrorCause', async () => {
    const name = uniqueName('doomed-store');
    stack.local.emulator.datastores.failCreate(name, {
      ErrorMessage: 'KMS key arn:aws:kms:us-east-1:123456789012:key/x is disabled',
    });
    const { failure } = await run('create-failed', 'ensureFhirDatastoreWorkflow', {
      datastoreName: name,
      sse: { cmkType: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: KMS },
      pollPolicy: FAST_POLL,
    } satisfies EnsureFhirDatastoreInput);
    assert.ok(failure);
    const created = (await stack.healthLake.listFHIRDatastores({ Filter: { DatastoreName: name } }))
      .DatastorePropertiesList!;
    assert.equal(created.length, 1);
    const id = created[0]!.DatastoreId!;
    assert.equal(created[0]!.DatastoreStatus, 'CREATE_FAILED');
    assert.equal(failure.type, 'HealthLakeDatastoreCreateFailed');
    assert.equal(
      failure.message,
      `data store ${id} ended CREATE_FAILED: KMS key arn:aws:kms:us-east-1:123456789012:key/x is disabled (NON_RETRYABLE_ERROR)`,
    );
    assert.equal(failure.nonRetryable, true);
  });

  it('delete of a missing store → ResourceNotFoundException with the service message', async () => {
    const missing = 'feedfacefeedfacefeedfacefeedface';
    const { failure } = await run('delete-missing', 'deleteFhirDatastoreWorkflow', {
      datastoreId: missing,
      pollPolicy: FAST_POLL,
    } satisfies DeleteFhirDatastoreInput);
    assert.equal(failure?.type, 'ResourceNotFoundException');
    assert.equal(
      failure?.message,
      `DescribeFHIRDatastore failed with ResourceNotFoundException: Data store ${missing} does not exist in account ${ACCOUNT} (us-east-1)`,
    );
    assert.equal(failure?.nonRetryable, true);
  });

  it('delete of a store with an unfinished job is refused, naming the job; the store stays ACTIVE', async () => {
    const datastoreId = await stack.newDatastore(uniqueName('busy-store'));
    // The job is held before it runs (hung during a 2 s queue delay), so it stays SUBMITTED.
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 2_000 } });
    const jobId = await stack.startJobDirectly(datastoreId, 'nothing-here');
    assert.equal(stack.local.emulator.jobs.hang(jobId), true);
    stack.local.emulator.updateSettings({ speed: { queueDelayMs: 20 } });
    stack.local.emulator.resetCounters();
    try {
      const { failure } = await run('delete-busy', 'deleteFhirDatastoreWorkflow', {
        datastoreId,
        pollPolicy: FAST_POLL,
      } satisfies DeleteFhirDatastoreInput);
      assert.equal(failure?.type, 'HealthLakeDatastoreHasRunningJobs');
      assert.equal(
        failure?.message,
        `data store ${datastoreId} has unfinished jobs: import job ${jobId} (SUBMITTED); delete it after they end`,
      );
      assert.equal(await statusOf(datastoreId), 'ACTIVE');
      assert.equal(stack.local.emulator.counters().DeleteFHIRDatastore, undefined);
    } finally {
      stack.local.emulator.jobs.fail(jobId, 'test over');
    }
  });

  it('bad input names the field, the value and the rule', async () => {
    const { failure } = await run('ensure-bad', 'ensureFhirDatastoreWorkflow', {
      datastoreName: 'bad#name',
      sse: { cmkType: 'CUSTOMER_MANAGED_KMS_KEY' },
    });
    assert.equal(failure?.type, 'InvalidDatastoreInput');
    assert.equal(
      failure?.message,
      'invalid EnsureFhirDatastoreInput: input.datastoreName "bad#name" must be 1-256 letters, digits, spaces and _.:/=+-%@; input.sse.kmsKeyId (missing) is required when sse.cmkType is CUSTOMER_MANAGED_KMS_KEY',
    );
  });
});
