// Runs the HealthLake worker pair from environment variables (the deployable entry point):
//   TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_TASK_QUEUE
//   (healthlake-import), HEALTHLAKE_API_TASK_QUEUE, HEALTHLAKE_API_ACTIVITIES_PER_SECOND (8),
//   HEALTHLAKE_ENDPOINT (a local emulator; unset = AWS), AWS_REGION (us-east-1), S3_ENDPOINT.
// Stops cleanly on SIGINT/SIGTERM (the Temporal runtime's default shutdown signals).
import { S3Client } from '@aws-sdk/client-s3';
import { NativeConnection } from '@temporalio/worker';
import { createHealthLakeWorker, DEFAULT_API_ACTIVITIES_PER_SECOND } from './index';
import { exitOnInvalidEndpointEnv } from './endpoint-config';

/** Static credentials a local endpoint accepts; real AWS uses the default provider chain. */
const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} "${raw}" must be a positive number`);
  return value;
}

async function main(): Promise<void> {
  const env = process.env;
  if (exitOnInvalidEndpointEnv(env)) return;
  const address = env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const region = env.AWS_REGION ?? 'us-east-1';
  const localCredentials = env.AWS_ACCESS_KEY_ID === undefined ? { credentials: LOCAL_CREDENTIALS } : {};
  const endpoint = env.HEALTHLAKE_ENDPOINT;
  const connection = await NativeConnection.connect({ address });
  const worker = await createHealthLakeWorker({
    connection,
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE ?? 'healthlake-import',
    ...(env.HEALTHLAKE_API_TASK_QUEUE ? { apiTaskQueue: env.HEALTHLAKE_API_TASK_QUEUE } : {}),
    apiActivitiesPerSecond: positiveNumber(
      'HEALTHLAKE_API_ACTIVITIES_PER_SECOND',
      DEFAULT_API_ACTIVITIES_PER_SECOND,
    ),
    healthLakeConfig: { region, ...(endpoint ? { endpoint, ...localCredentials } : {}) },
    ...(env.S3_ENDPOINT
      ? { s3: new S3Client({ region, endpoint: env.S3_ENDPOINT, forcePathStyle: true, ...localCredentials }) }
      : {}),
  });
  // One line a supervisor (or a test) can wait for; no credentials, only where we listen.
  console.error(
    `healthlake worker ready: ${address} task queues ${worker.taskQueue}, ${worker.apiTaskQueue}` +
      (endpoint ? ` HealthLake endpoint ${endpoint}` : ` HealthLake ${region}`),
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
