// `healthlake-emulator/testing`: a local HealthLake stack for tests, demos and benchmarks: a real
// S3-compatible server (moto), the emulator on the `fast` preset, and real SDK clients for both;
// pollers that wait for a job to end, spaced to stay under the Describe quota; the FHIR data
// generator; and the PyPI tool installer and process helpers the local servers run on.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeFHIRDatastoreCommand,
  DescribeFHIRExportJobCommand,
  DescribeFHIRImportJobCommand,
  HealthLakeClient,
  type DatastoreStatus,
  type ExportJobProperties,
  type ImportJobProperties,
} from '@aws-sdk/client-healthlake';
import type { S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from './index';
import { createS3Client, LOCAL_S3_CREDENTIALS } from './s3';
import { startS3Server, type S3ServerHandle } from './s3-server';

// The rest of the local stack, from this one entry (`healthlake-emulator/testing`).
export { startEmulator, type EmulatorHandle, type EmulatorOptions } from './index';
export { startS3Server, S3ServerStartError, type S3ServerHandle, type S3ServerOptions } from './s3-server';
export { createS3Client, ensureBucket, LOCAL_S3_CREDENTIALS, type CreateS3ClientOptions } from './s3';
export * from './fhir';
export {
  resolveTool,
  ToolNotFoundError,
  MOTO_SERVER,
  DEFAULT_TOOLS_DIR,
  freePort,
  stopChild,
  type ResolveToolOptions,
  type ResolvedTool,
  type ToolAttempt,
  type ToolSpec,
} from './tools';

export interface LocalHealthLake {
  readonly emulator: EmulatorHandle;
  readonly s3Server: S3ServerHandle;
  /** The real SDK client pointed at the emulator. */
  readonly healthLake: HealthLakeClient;
  /** An S3 client for the same S3 server the emulator uses. */
  readonly s3: S3Client;
  /** An SQS client for the same moto server (it serves SQS on the S3 port). */
  readonly sqs: SQSClient;
  /** The queue the emulator sends job and data store events to, when started with `eventsQueueName`. */
  readonly eventsQueueUrl?: string;
  /** Stops the emulator, then the S3 server. */
  stop(): Promise<void>;
}

/** Options of {@link startLocalHealthLake}: the emulator's, plus a queue for its events. */
export interface LocalHealthLakeOptions extends Omit<EmulatorOptions, 's3Endpoint' | 'eventsSqsQueueUrl'> {
  /**
   * Creates this SQS queue on the moto server and has the emulator send HealthLake's EventBridge
   * job and data store events to it. @default none (no events)
   */
  readonly eventsQueueName?: string;
}

/** A client for moto's SQS (same port as its S3; any static credentials). */
export function localSqsClient(endpoint: string, region = 'us-east-1'): SQSClient {
  return new SQSClient({ endpoint, region, credentials: { ...LOCAL_S3_CREDENTIALS } });
}

/** Client settings for a local emulator (any static credentials work). */
export function healthLakeClientFor(emulator: EmulatorHandle, maxAttempts?: number): HealthLakeClient {
  return new HealthLakeClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { ...LOCAL_S3_CREDENTIALS },
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
}

/** Starts moto and an emulator on it (`fast` preset unless `options.preset` says otherwise). */
export async function startLocalHealthLake(options: LocalHealthLakeOptions = {}): Promise<LocalHealthLake> {
  const { eventsQueueName, ...emulatorOptions } = options;
  const s3Server = await startS3Server();
  const sqs = localSqsClient(s3Server.endpoint, options.region);
  let eventsQueueUrl: string | undefined;
  try {
    if (eventsQueueName !== undefined)
      eventsQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: eventsQueueName }))).QueueUrl;
  } catch (err) {
    sqs.destroy();
    await s3Server.stop();
    throw err;
  }
  const emulator = await startEmulator({
    preset: 'fast',
    ...emulatorOptions,
    s3Endpoint: s3Server.endpoint,
    ...(eventsQueueUrl === undefined ? {} : { eventsSqsQueueUrl: eventsQueueUrl }),
  });
  const healthLake = healthLakeClientFor(emulator);
  const s3 = createS3Client({ endpoint: s3Server.endpoint });
  return {
    emulator,
    s3Server,
    healthLake,
    s3,
    sqs,
    ...(eventsQueueUrl === undefined ? {} : { eventsQueueUrl }),
    async stop() {
      healthLake.destroy();
      s3.destroy();
      sqs.destroy();
      await emulator.stop();
      await s3Server.stop();
    },
  };
}

/** Poll spacing that keeps one poller under the default 10 TPS Describe quota, in ms. */
export const POLL_INTERVAL_MS = 150;
const TERMINAL = ['COMPLETED', 'COMPLETED_WITH_ERRORS', 'FAILED', 'CANCEL_COMPLETED', 'CANCEL_FAILED'];

/** Polls DescribeFHIRImportJob until the job is terminal (or `until` says stop), returns the last properties. */
export async function waitForImportJob(
  healthLake: HealthLakeClient,
  datastoreId: string,
  jobId: string,
  until: (job: ImportJobProperties) => boolean = (job) => TERMINAL.includes(job.JobStatus!),
): Promise<ImportJobProperties> {
  for (;;) {
    const { ImportJobProperties: job } = await healthLake.send(
      new DescribeFHIRImportJobCommand({ DatastoreId: datastoreId, JobId: jobId }),
    );
    if (until(job!)) return job!;
    await sleep(POLL_INTERVAL_MS);
  }
}

export async function waitForExportJob(
  healthLake: HealthLakeClient,
  datastoreId: string,
  jobId: string,
): Promise<ExportJobProperties> {
  for (;;) {
    const { ExportJobProperties: job } = await healthLake.send(
      new DescribeFHIRExportJobCommand({ DatastoreId: datastoreId, JobId: jobId }),
    );
    if (TERMINAL.includes(job!.JobStatus!)) return job!;
    await sleep(POLL_INTERVAL_MS);
  }
}

export async function waitForDatastore(
  healthLake: HealthLakeClient,
  datastoreId: string,
  status: DatastoreStatus = 'ACTIVE',
): Promise<void> {
  for (;;) {
    const { DatastoreProperties } = await healthLake.send(
      new DescribeFHIRDatastoreCommand({ DatastoreId: datastoreId }),
    );
    if (DatastoreProperties!.DatastoreStatus === status) return;
    await sleep(POLL_INTERVAL_MS);
  }
}
