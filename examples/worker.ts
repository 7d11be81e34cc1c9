// Workers for the examples, the demo and the pipeline tests: one on the pipeline's task queue (the
// library's workflows plus the example downstream workflow, and every activity they call) and one on
// the HealthLake API task queue the import's start/describe activities use.
import type { HealthLakeClient } from '@aws-sdk/client-healthlake';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createGateActivities } from '../activities/gate';
import { healthLakeImportApi } from '../activities/healthlake-api';
import { createHealthLakeActivities } from '../activities/import';
import { createLandingActivities } from '../activities/landing';
import { createPipelineActivities } from '../activities/pipeline';
import { HEALTHLAKE_API_TASK_QUEUE_SUFFIX } from '../workflows/types';
import { createVerifyAndExportActivities } from './verify-and-export-activities';

export interface ExampleWorkersOptions {
  readonly connection: NativeConnection;
  /** Client the gate and pipeline activities use to reach other workflows. */
  readonly client: Client;
  /** @default 'default' */
  readonly namespace?: string;
  readonly taskQueue: string;
  readonly s3: S3Client;
  readonly healthLake: HealthLakeClient;
  /** A bundle of examples/workflows (or a file re-exporting it). @default bundles examples/workflows */
  readonly workflowBundle?: WorkflowBundleOption;
}

/** The two workers; run both (`Promise.all(workers.map((w) => w.run()))`). */
export async function createExampleWorkers(options: ExampleWorkersOptions): Promise<Worker[]> {
  const healthLakeActivities = createHealthLakeActivities({
    healthLake: healthLakeImportApi(options.healthLake),
  });
  const namespace = options.namespace ?? 'default';
  const main = await Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: {
      ...healthLakeActivities,
      ...createGateActivities({ client: options.client }),
      ...createLandingActivities({ s3: options.s3 }),
      ...createPipelineActivities({ client: options.client }),
      ...createVerifyAndExportActivities({ s3: options.s3, healthLake: options.healthLake }),
    },
  });
  const api = await Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: `${options.taskQueue}${HEALTHLAKE_API_TASK_QUEUE_SUFFIX}`,
    activities: healthLakeActivities,
  });
  return [main, api];
}
