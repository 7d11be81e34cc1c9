// Terminal statuses and errors the emulator cannot produce (HealthLake imports have no cancel API,
// and no real service answers an unknown status), on a real dev server and worker with a scripted
// HealthLake: CANCEL_COMPLETED / CANCEL_FAILED, an unknown status, AccessDenied mid-wait.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccessDeniedException, type ImportJobProperties } from '@aws-sdk/client-healthlake';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import type { HealthLakeImportApi } from '../activities';
import { createLocalTestEnv, type LocalTestEnv } from '../worker/dev-server';
import { createHealthLakeWorker } from '../worker';
import { importSearchAttributes } from '../workflows/types';
import { FAST_POLL, KMS, ROLE, uniqueName } from './helpers/import-env';
import { quietTemporalRuntime } from './helpers/runtime';

const DATASTORE = 'ds0123456789abcdef0123456789abcd';
const INPUT_URI = 's3://scripted/in/';

const silent = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

let temporal: LocalTestEnv;
let bundle: WorkflowBundle;
before(async () => {
  quietTemporalRuntime();
  [temporal, bundle] = await Promise.all([
    createLocalTestEnv({ searchAttributes: importSearchAttributes }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: silent }),
  ]);
});
after(async () => {
  await temporal?.teardown();
});

/** A HealthLake whose job walks through `statuses` (the last one repeats); an Error is thrown. */
function scripted(statuses: Array<string | Error>, message?: string) {
  let calls = 0;
  const api: HealthLakeImportApi = {
    startFHIRImportJob: () => Promise.reject(new Error('these tests attach to a job')),
    listFHIRImportJobs: async () => ({ ImportJobPropertiesList: [] }),
    describeFHIRImportJob: async (input) => {
      const next = statuses[Math.min(calls, statuses.length - 1)]!;
      calls++;
      if (next instanceof Error) throw next;
      return {
        ImportJobProperties: {
          JobId: input.JobId,
          JobStatus: next as ImportJobProperties['JobStatus'],
          SubmitTime: new Date('2026-01-01T00:00:00Z'),
          DatastoreId: DATASTORE,
          InputDataConfig: { S3Uri: INPUT_URI },
          ...(message === undefined ? {} : { Message: message }),
        },
      };
    },
  };
  return { api, calls: () => calls };
}

async function importFailure(healthLake: HealthLakeImportApi): Promise<WorkflowFailedError> {
  const taskQueue = uniqueName('scripted');
  const worker = await createHealthLakeWorker({
    connection: temporal.env.nativeConnection,
    taskQueue,
    healthLake,
    workflowBundle: bundle,
  });
  return worker.runUntil(
    (async () => {
      const handle = await temporal.env.client.workflow.start('fhirImportWorkflow', {
        taskQueue,
        workflowId: taskQueue,
        args: [
          {
            datastoreId: DATASTORE,
            inputS3Uri: INPUT_URI,
            outputS3Uri: 's3://scripted/out',
            kmsKeyId: KMS,
            dataAccessRoleArn: ROLE,
            existingJobId: 'job-1',
            pollPolicy: FAST_POLL,
          },
        ],
      });
      const err = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(err)}`);
      return err;
    })(),
  );
}

describe('terminal statuses the emulator cannot produce', () => {
  for (const status of ['CANCEL_COMPLETED', 'CANCEL_FAILED']) {
    it(`IN_PROGRESS → CANCEL_SUBMITTED → ${status}: HealthLakeImportCancelled`, async () => {
      const healthLake = scripted(['IN_PROGRESS', 'CANCEL_SUBMITTED', status], 'cancelled by an operator');
      const err = await importFailure(healthLake.api);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'HealthLakeImportCancelled');
      assert.equal(err.cause.nonRetryable, true);
      assert.equal(err.cause.message, `import job job-1 ended ${status}: cancelled by an operator`);
    });
  }

  it('an unknown status is an error, never "keep waiting"', async () => {
    const healthLake = scripted(['IN_PROGRESS', 'PAUSED']);
    const err = await importFailure(healthLake.api);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'UnknownImportJobStatus');
    assert.equal(
      err.cause.message,
      'import job job-1 reported status "PAUSED", which this workflow does not know',
    );
    assert.equal(healthLake.calls(), 2);
  });

  it('AccessDenied while waiting fails at once under the AWS name, without a retry', async () => {
    const denied = new AccessDeniedException({ message: 'role cannot read the job', $metadata: {} });
    const healthLake = scripted(['IN_PROGRESS', denied]);
    const err = await importFailure(healthLake.api);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'AccessDeniedException');
    assert.equal(err.cause.nonRetryable, true);
    assert.equal(
      err.cause.message,
      'DescribeFHIRImportJob failed with AccessDeniedException: role cannot read the job',
    );
    assert.ok(err.cause.cause instanceof ActivityFailure);
    assert.equal(err.cause.cause.activityType, 'awaitImportJobChange');
    // One Describe to attach, one that was denied: no retry of the denied call.
    assert.equal(healthLake.calls(), 2);
  });
});
