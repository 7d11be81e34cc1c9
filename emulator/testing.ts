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
  /** Stops the emulator, then the S3 server. */
  stop(): Promise<void>;
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
export async function startLocalHealthLake(
  options: Omit<EmulatorOptions, 's3Endpoint'> = {},
): Promise<LocalHealthLake> {
  const s3Server = await startS3Server();
  const emulator = await startEmulator({ preset: 'fast', ...options, s3Endpoint: s3Server.endpoint });
  const healthLake = healthLakeClientFor(emulator);
  const s3 = createS3Client({ endpoint: s3Server.endpoint });
  return {
    emulator,
    s3Server,
    healthLake,
    s3,
    async stop() {
      healthLake.destroy();
      s3.destroy();
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
