// One worker process of the `scale` benchmark: the project's worker pair (createHealthLakeWorker)
// against the fake HealthLake over HTTP. Reports its peak RSS and List coalescer counts to the
// parent (bench/scale.ts) when told to stop.
import { S3Client } from '@aws-sdk/client-s3';
import { NativeConnection, DefaultLogger, Runtime } from '@temporalio/worker';
import { createHealthLakeWorker } from '../worker/index';

export interface ScaleWorkerConfig {
  readonly address: string;
  readonly taskQueue: string;
  readonly endpoint: string;
  readonly workflowCodePath: string;
  readonly apiActivitiesPerSecond: number;
  /** This process's share of the account's calls per second (`healthLakeCallsPerSecond`), if any. */
  readonly callsPerSecond?: number;
  readonly coalesce: false | { windowMs: number; maxAgeMs: number };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]!) as ScaleWorkerConfig;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 500);
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await createHealthLakeWorker({
    connection,
    taskQueue: config.taskQueue,
    healthLakeConfig: {
      endpoint: config.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    },
    s3: new S3Client({ region: 'us-east-1' }),
    workflowBundle: { codePath: config.workflowCodePath },
    apiActivitiesPerSecond: config.apiActivitiesPerSecond,
    ...(config.callsPerSecond === undefined ? {} : { healthLakeCallsPerSecond: config.callsPerSecond }),
    ...(config.coalesce === false ? {} : { coalesceImportPolls: config.coalesce }),
  });
  process.on('message', (message: unknown) => {
    if (message === 'stop') worker.shutdown();
  });
  const running = worker.run();
  process.send?.({ kind: 'ready' });
  await running;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  process.send?.({
    kind: 'done',
    peakRssMb: Math.round(peakRss / 1_000_000),
    coalescer: worker.listCoalescer?.stats ?? null,
    callBudget: worker.callBudget?.stats ?? null,
  });
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`scale worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
