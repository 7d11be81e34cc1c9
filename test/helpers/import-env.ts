// The real stack the import acceptance tests run on: a Temporal dev server with the import's
// search attributes, moto S3, the HealthLake emulator over HTTP through the real SDK client, and
// the project's worker pair on a per-test task queue.
import {
  CreateFHIRDatastoreCommand,
  DescribeFHIRImportJobCommand,
  HealthLake,
  StartFHIRImportJobCommand,
  type JobProgressReport,
} from '@aws-sdk/client-healthlake';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';
import { generateFhirData, writeFhirDataToS3, type GeneratedFhirData } from '../../emulator/fhir/generate';
import { ensureBucket, LOCAL_S3_CREDENTIALS } from '../../emulator/s3';
import { startLocalHealthLake, waitForDatastore, type LocalHealthLake } from '../../emulator/testing';
import {
  createLocalTestEnv,
  type LocalTestEnv,
  type TemporalDevServerOptions,
} from '../../worker/dev-server';
import { createHealthLakeWorker, type HealthLakeWorker, type HealthLakeWorkerOptions } from '../../worker';
import {
  importSearchAttributes,
  type FhirImportInput,
  type PollPolicy,
  type ValidationLevel,
} from '../../workflows/types';
import { quietTemporalRuntime } from './runtime';
import { waitFor } from './wait-for';

export const BUCKET = 'import-tests';
export const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
export const KMS = 'arn:aws:kms:us-east-1:123456789012:key/0e6f6a5e-6c1a-4b9e-9b7e-1d0f0c7c3f11';

/** Millisecond polling: the server runs in real time while activities execute. */
export const FAST_POLL: Partial<PollPolicy> = {
  initialDelayMs: 20,
  minDelayMs: 20,
  maxDelayMs: 100,
  queuedDelayMs: 50,
  attemptTimeoutMs: 5_000,
};

export interface ImportTestStack {
  readonly temporal: LocalTestEnv;
  readonly local: LocalHealthLake;
  readonly bundle: WorkflowBundle;
  /** A HealthLake client with SDK retries off: Temporal retries, one attempt = one call. */
  readonly healthLake: HealthLake;
  newDatastore(name: string): Promise<string>;
  /** Generates and uploads NDJSON under `s3://BUCKET/<prefix>/`. */
  land(prefix: string, patients: number, invalidRate?: number): Promise<GeneratedFhirData>;
  input(datastoreId: string, prefix: string, extra?: Partial<FhirImportInput>): FhirImportInput;
  /** Starts a job directly through the SDK (a job "started elsewhere"). */
  startJobDirectly(
    datastoreId: string,
    prefix: string,
    extra?: { jobName?: string; validationLevel?: ValidationLevel },
  ): Promise<string>;
  worker(taskQueue: string, extra?: Partial<HealthLakeWorkerOptions>): Promise<HealthLakeWorker>;
  /**
   * Runs `start` (which starts an import into `datastoreId`) with the emulator slowed down, holds
   * the job (`jobs.hang`) once it has imported its first resources, and returns the job id and the
   * held report as Describe answers it: counts that stay put until `jobs.release(jobId)`.
   */
  holdJobMidRun<T>(datastoreId: string, start: () => Promise<T>): Promise<HeldJob<T>>;
  /**
   * The environment of a worker/main.ts process on this stack (see helpers/worker-process.ts):
   * server, task queue, emulator endpoint and region, a rate limit that does not slow tests.
   */
  workerProcessEnv(taskQueue: string): Record<string, string>;
  stop(): Promise<void>;
}

/** A job held mid-run by {@link ImportTestStack.holdJobMidRun}. */
export interface HeldJob<T> {
  readonly started: T;
  readonly jobId: string;
  /** Describe's `JobProgressReport` of the held job. */
  readonly report: JobProgressReport;
}

let unique = 0;
/** A task queue / workflow id no other test (or run) uses. */
export function uniqueName(label: string): string {
  unique += 1;
  return `${label}-${process.pid}-${Date.now().toString(36)}-${unique}`;
}

export interface ImportTestStackOptions {
  /** More dev-server options (e.g. `ui: true` for the browser test). @default {} */
  readonly devServer?: Omit<TemporalDevServerOptions, 'searchAttributes'>;
}

export async function startImportTestStack(options: ImportTestStackOptions = {}): Promise<ImportTestStack> {
  quietTemporalRuntime();
  const starting = [
    createLocalTestEnv({ ...options.devServer, searchAttributes: importSearchAttributes }),
    // Quota raised: millisecond polling would hit the 10 TPS Describe quota; throttling has its own test.
    startLocalHealthLake({ quotas: { describeList: { ratePerSecond: 1_000, burst: 1_000 } } }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger }),
  ] as const;
  const started = await Promise.allSettled(starting);
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed) {
    // Stop what did start, or its processes keep this test file from ever exiting.
    const [temporalStarted, localStarted] = started;
    await Promise.allSettled([
      temporalStarted.status === 'fulfilled' ? temporalStarted.value.teardown() : undefined,
      localStarted.status === 'fulfilled' ? localStarted.value.stop() : undefined,
    ]);
    throw failed.reason;
  }
  const [temporal, local, bundle] = await Promise.all(starting);
  await ensureBucket(local.s3, BUCKET);
  const healthLake = new HealthLake({
    endpoint: local.emulator.url,
    region: local.emulator.region,
    credentials: { ...LOCAL_S3_CREDENTIALS },
    maxAttempts: 1,
  });
  const uri = (prefix: string) => `s3://${BUCKET}/${prefix}/`;
  return {
    temporal,
    local,
    bundle,
    healthLake,
    async newDatastore(name) {
      const created = await local.healthLake.send(
        new CreateFHIRDatastoreCommand({ DatastoreName: name, DatastoreTypeVersion: 'R4' }),
      );
      await waitForDatastore(local.healthLake, created.DatastoreId!);
      return created.DatastoreId!;
    },
    async land(prefix, patients, invalidRate = 0) {
      const data = generateFhirData({ patients, seed: 7, invalidRate });
      await writeFhirDataToS3(data, local.s3, uri(prefix));
      return data;
    },
    input(datastoreId, prefix, extra = {}) {
      return {
        datastoreId,
        inputS3Uri: uri(prefix),
        outputS3Uri: `s3://${BUCKET}/out/${prefix}`,
        kmsKeyId: KMS,
        dataAccessRoleArn: ROLE,
        validationLevel: 'strict',
        pollPolicy: FAST_POLL,
        ...extra,
      };
    },
    async startJobDirectly(datastoreId, prefix, extra = {}) {
      const started = await local.healthLake.send(
        new StartFHIRImportJobCommand({
          DatastoreId: datastoreId,
          JobName: extra.jobName,
          ValidationLevel: extra.validationLevel,
          InputDataConfig: { S3Uri: uri(prefix) },
          JobOutputDataConfig: { S3Configuration: { S3Uri: `s3://${BUCKET}/out/${prefix}`, KmsKeyId: KMS } },
          DataAccessRoleArn: ROLE,
        }),
      );
      return started.JobId!;
    },
    worker(taskQueue, extra = {}) {
      return createHealthLakeWorker({
        connection: temporal.env.nativeConnection,
        taskQueue,
        healthLake,
        workflowBundle: bundle,
        apiActivitiesPerSecond: 200,
        // Heartbeats leave at once, so live progress is visible within a poll.
        workerOptions: { defaultHeartbeatThrottleInterval: 10, maxHeartbeatThrottleInterval: 10 },
        ...extra,
      });
    },
    async holdJobMidRun(datastoreId, start) {
      // Slow enough to catch the job mid-run, then held there: counts stop moving.
      local.emulator.updateSettings({ speed: { resourcesPerSecond: 100 } });
      let started;
      let jobId: string;
      try {
        started = await start();
        const job = await waitFor(
          () => local.emulator.jobs.list().find((j) => j.datastoreId === datastoreId),
          (j) =>
            j !== undefined &&
            j.status === 'IN_PROGRESS' &&
            (j.progress?.TotalNumberOfResourcesImported ?? 0) > 0,
          'the job to import its first resources',
        );
        jobId = job!.jobId;
        if (!local.emulator.jobs.hang(jobId)) throw new Error(`the emulator could not hold job ${jobId}`);
      } finally {
        local.emulator.updateSettings({ speed: { resourcesPerSecond: null } });
      }
      const described = await healthLake.send(
        new DescribeFHIRImportJobCommand({ DatastoreId: datastoreId, JobId: jobId }),
      );
      return { started, jobId, report: described.ImportJobProperties!.JobProgressReport! };
    },
    workerProcessEnv(taskQueue) {
      return {
        TEMPORAL_ADDRESS: temporal.server!.address,
        TEMPORAL_TASK_QUEUE: taskQueue,
        HEALTHLAKE_ENDPOINT: local.emulator.url,
        AWS_REGION: local.emulator.region,
        HEALTHLAKE_API_ACTIVITIES_PER_SECOND: '200',
      };
    },
    async stop() {
      healthLake.destroy();
      await Promise.allSettled([temporal.teardown(), local.stop()]);
    },
  };
}

export const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta),
};
