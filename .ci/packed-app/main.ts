// A user's app, compiled and run by .ci/packed-app.sh against the PACKED package: only the
// documented entry points (worker, client, contract, testing), end to end on the local stack
// (Temporal dev server, moto S3, the HealthLake emulator), one import of generated FHIR data.
import { createHealthLakeWorker } from 'temporal-healthlake/worker';
import {
  ensureFhirDatastoreWorkflowId,
  importSearchAttributes,
  startFhirImport,
  type EnsureFhirDatastoreResult,
  type PollPolicy,
} from 'temporal-healthlake/client';
import {
  createLocalTestEnv,
  ensureBucket,
  generateFhirData,
  LOCAL_S3_CREDENTIALS,
  startLocalHealthLake,
  writeFhirDataToS3,
} from 'temporal-healthlake/testing';

/** Poll fast: the emulator's `fast` preset finishes jobs in well under a second. */
const FAST_POLL: Partial<PollPolicy> = {
  initialDelayMs: 20,
  minDelayMs: 20,
  maxDelayMs: 200,
  queuedDelayMs: 50,
};

async function main(): Promise<void> {
  const temporal = await createLocalTestEnv({ searchAttributes: importSearchAttributes });
  const local = await startLocalHealthLake();
  try {
    const data = generateFhirData({ patients: 5, seed: 7 });
    await ensureBucket(local.s3, 'packed-input');
    await ensureBucket(local.s3, 'packed-output');
    await writeFhirDataToS3(data, local.s3, 's3://packed-input/fhir/');

    const taskQueue = 'packed-app';
    const worker = await createHealthLakeWorker({
      connection: temporal.env.nativeConnection,
      taskQueue,
      // The worker's own HealthLake client, pointed at the emulator (any static credentials work).
      healthLakeConfig: {
        endpoint: local.emulator.url,
        region: local.emulator.region,
        credentials: LOCAL_S3_CREDENTIALS,
      },
      s3: local.s3,
    });
    const client = temporal.env.client;
    const result = await worker.runUntil(
      (async () => {
        const store = (await client.workflow.execute('ensureFhirDatastoreWorkflow', {
          taskQueue,
          workflowId: ensureFhirDatastoreWorkflowId('packed-app'),
          args: [{ datastoreName: 'packed-app', pollPolicy: FAST_POLL }],
        })) as EnsureFhirDatastoreResult;
        const handle = await startFhirImport(client, {
          callerKey: 'packed-app-batch-1',
          taskQueue,
          input: {
            datastoreId: store.datastoreId,
            inputS3Uri: 's3://packed-input/fhir/',
            outputS3Uri: 's3://packed-output/import/',
            kmsKeyId: 'alias/healthlake',
            dataAccessRoleArn: 'arn:aws:iam::123456789012:role/HealthLakeImport',
            pollPolicy: FAST_POLL,
          },
        });
        return handle.result();
      })(),
    );
    const imported = result.progress.counts.resourcesImported;
    console.log(`packed app: import ${result.status}, ${imported} of ${data.counts.resources} resources`);
    if (result.status !== 'COMPLETED' || imported !== data.counts.resources) process.exitCode = 1;
  } finally {
    await local.stop();
    await temporal.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
