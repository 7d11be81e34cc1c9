// Workers for the examples, the demo and the pipeline tests: the project's worker pair (every
// activity the library's workflows call, and the rate-limited HealthLake API queue) plus the
// example downstream workflow and its activities on the main queue.
import type { HealthLakeClient } from '@aws-sdk/client-healthlake';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  Worker,
  type NativeConnection,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { healthLakeImportApi } from '../activities/healthlake-api';
import { createHealthLakeActivities } from '../activities/import';
import { createWorkerActivities, DEFAULT_API_ACTIVITIES_PER_SECOND } from '../worker';
import { HEALTHLAKE_API_TASK_QUEUE_SUFFIX } from '../workflows/types';
import { createVerifyAndExportActivities } from './verify-and-export-activities';

export interface ExampleWorkersOptions {
  readonly connection: NativeConnection;
  /** @default 'default' */
  readonly namespace?: string;
  readonly taskQueue: string;
  readonly s3: S3Client;
  readonly healthLake: HealthLakeClient;
  /** A bundle of examples/workflows (or a file re-exporting it). @default bundles examples/workflows */
  readonly workflowBundle?: WorkflowBundleOption;
  /** Extra options for both workers (tuning, identity). @default {} */
  readonly workerOptions?: Partial<
    Omit<WorkerOptions, 'connection' | 'namespace' | 'taskQueue' | 'activities'>
  >;
}

/** The two workers; run both (`Promise.all(workers.map((w) => w.run()))`). */
export async function createExampleWorkers(options: ExampleWorkersOptions): Promise<Worker[]> {
  const healthLake = healthLakeImportApi(options.healthLake);
  const namespace = options.namespace ?? 'default';
  const main = await Worker.create({
    ...options.workerOptions,
    connection: options.connection,
    namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: {
      ...createWorkerActivities({ healthLake, s3: options.s3 }),
      ...createVerifyAndExportActivities({ s3: options.s3, healthLake: options.healthLake }),
    },
  });
  const api = await Worker.create({
    ...options.workerOptions,
    connection: options.connection,
    namespace,
    taskQueue: `${options.taskQueue}${HEALTHLAKE_API_TASK_QUEUE_SUFFIX}`,
    activities: createHealthLakeActivities({ healthLake }),
    maxTaskQueueActivitiesPerSecond: DEFAULT_API_ACTIVITIES_PER_SECOND,
  });
  return [main, api];
}
