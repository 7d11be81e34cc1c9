// Push + poll, measured: imports of chosen lengths on the real stack (dev server, emulator, moto
// S3 + SQS, the event relay, the project's worker), with HealthLake's job events on (emulator →
// SQS → relay → signal) and off (pure poll), each job on its own data store. Per job: how long
// after the job ended the import knew (detection latency, wall ms), and the Describe and List
// calls HealthLake answered for it (counted at the client, so a cancelled wait's Describe counts).
//   npx tsx bench/push.ts [--quick] [--json out.json]
// As a library: `measurePush({ jobLengthsMs, timeScale, events })` → one row per job. The polling
// benchmark's strategy `temporal-healthlake-push` (bench/polling.ts) runs the same event path on
// that bench's fake jobs instead, beside the other strategies.
import { HealthLake } from '@aws-sdk/client-healthlake';
import { CreateFHIRDatastoreCommand } from '@aws-sdk/client-healthlake';
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createHealthLakeEventRelay } from '../client';
import { generateFhirData, writeFhirDataToS3 } from '../emulator/fhir/generate';
import { ensureBucket, LOCAL_S3_CREDENTIALS } from '../emulator/s3';
import { startLocalHealthLake, waitForDatastore } from '../emulator/testing';
import { createHealthLakeWorker } from '../worker';
import { createLocalTestEnv } from '../worker/dev-server';
import { fhirImportWorkflow } from '../workflows';
import { DEFAULT_EVENT_SAFETY_NET_DELAY_MS } from '../workflows/job-events';
import { DEFAULT_POLL_POLICY, importSearchAttributes, type PollPolicy } from '../workflows/types';

/** The strategy name the polling benchmark files this under. */
export const PUSH_STRATEGY = 'temporal-healthlake-push';

export interface PushBenchOptions {
  /** Job lengths at production scale, in ms (e.g. 30 s, 10 min, 1 h). */
  readonly jobLengthsMs: readonly number[];
  /**
   * Multiplies every job length and every poll delay, so an hour runs in a minute at 1/60. The
   * event path (emulator → SQS → relay → signal) runs in real time: latencies are wall ms.
   */
  readonly timeScale: number;
  /** Job events on (push + poll) or off (the same workflow polling alone). @default true */
  readonly events?: boolean;
  /** The poll policy at production scale, before scaling. @default DEFAULT_POLL_POLICY */
  readonly pollPolicy?: Partial<PollPolicy>;
}

/** One job's numbers. */
export interface PushJobMeasurement {
  /** The requested length, production scale, ms. */
  readonly jobLengthMs: number;
  /** The job's measured length (submit → end in the emulator), wall ms at the run's scale. */
  readonly jobWallMs: number;
  /** Job end → the import workflow closed, wall ms. */
  readonly detectionLatencyMs: number;
  /** DescribeFHIRImportJob calls HealthLake answered for this job (a cancelled wait's included). */
  readonly describeCalls: number;
  /** ListFHIRImportJobs calls for this job (the start's search by job name). */
  readonly listCalls: number;
  /** What found the end: the job's event, or a Describe (`poll`). */
  readonly detectedBy: 'event' | 'poll';
}

/**
 * Production delays scaled by `timeScale`. The first and the shortest delays are kept at 1 s or
 * more: the event path (EventBridge/SQS/relay) is not scaled, and in production it is faster than
 * the 5 s first Describe; scaled below it, polls would race events they never race in production.
 * The attempt timeout stays above 2 s for a loaded machine.
 */
export function scaledPollPolicy(policy: Partial<PollPolicy>, timeScale: number): PollPolicy {
  const p: PollPolicy = {
    ...DEFAULT_POLL_POLICY,
    eventSafetyNetDelayMs: DEFAULT_EVENT_SAFETY_NET_DELAY_MS,
    // What a caller running the relay sets: the first Describe waits for the first event.
    awaitFirstEventMs: DEFAULT_POLL_POLICY.initialDelayMs,
    ...policy,
  };
  const scale = (ms: number | undefined): number | undefined =>
    ms === undefined ? undefined : Math.max(1, Math.round(ms * timeScale));
  return {
    ...p,
    initialDelayMs: Math.max(MIN_SCALED_FLOOR_MS, scale(p.initialDelayMs)!),
    minDelayMs: Math.max(MIN_SCALED_FLOOR_MS, scale(p.minDelayMs)!),
    maxDelayMs: Math.max(MIN_SCALED_FLOOR_MS, scale(p.maxDelayMs)!),
    queuedDelayMs: scale(p.queuedDelayMs)!,
    attemptTimeoutMs: Math.max(2_000, scale(p.attemptTimeoutMs)!),
    reportRefreshMs: scale(p.reportRefreshMs)!,
    progressIntervalMs: scale(p.progressIntervalMs)!,
    eventSafetyNetDelayMs: scale(p.eventSafetyNetDelayMs)!,
    ...(p.awaitFirstEventMs === undefined
      ? {}
      : { awaitFirstEventMs: Math.max(MIN_SCALED_FLOOR_MS, scale(p.awaitFirstEventMs)!) }),
  };
}

/** Floor of the scaled first and shortest poll delays, ms (see {@link scaledPollPolicy}). */
const MIN_SCALED_FLOOR_MS = 1_000;

/** The emulator's import speed in the bench: job lengths come from data sizes at this rate. */
const MEGABYTES_PER_SECOND = 0.05;
const BUCKET = 'push-bench';
const ROLE = 'arn:aws:iam::123456789012:role/HealthLakeImport';
const KMS = 'alias/healthlake';

const quiet = { info: () => undefined, warn: () => undefined };
const quietBundler = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: (message: string) => console.error(message),
};

/**
 * Runs one import per job length, all at once, each on its own data store, with events on or off,
 * on a fresh local stack, and returns one row per job (in the order of `jobLengthsMs`).
 *
 * @example const rows = await measurePush({ jobLengthsMs: [30_000, 600_000], timeScale: 0.01 });
 */
export async function measurePush(options: PushBenchOptions): Promise<PushJobMeasurement[]> {
  const events = options.events ?? true;
  const policy = scaledPollPolicy(options.pollPolicy ?? {}, options.timeScale);
  const [temporal, local, bundle] = await Promise.all([
    createLocalTestEnv({ searchAttributes: importSearchAttributes }),
    startLocalHealthLake({
      eventsQueueName: 'push-bench-events',
      speed: { megabytesPerSecond: MEGABYTES_PER_SECOND, progressRefreshMs: 250 },
      quotas: { describeList: { ratePerSecond: 1_000, burst: 1_000 } },
    }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundler }),
  ]);
  if (!events) local.emulator.events.setFaults([{ drop: true }]);
  const describes = new Map<string, number>();
  const lists = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string | undefined) =>
    map.set(key ?? '', (map.get(key ?? '') ?? 0) + 1);
  const sdk = new HealthLake({
    endpoint: local.emulator.url,
    region: local.emulator.region,
    credentials: { ...LOCAL_S3_CREDENTIALS },
    maxAttempts: 1,
  });
  // Counts per data store (one job each) at the client: every call the worker makes.
  const counted = new Proxy(sdk, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property === 'describeFHIRImportJob' || property === 'listFHIRImportJobs') {
        const map = property === 'describeFHIRImportJob' ? describes : lists;
        return (input: { DatastoreId?: string }, ...rest: unknown[]) => {
          bump(map, input.DatastoreId);
          return (value as (...args: unknown[]) => unknown).call(target, input, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const taskQueue = `push-bench-${events ? 'on' : 'off'}`;
  const worker = await createHealthLakeWorker({
    connection: temporal.env.nativeConnection,
    taskQueue,
    healthLake: counted,
    workflowBundle: bundle,
    apiActivitiesPerSecond: 200,
  });
  const running = worker.run();
  const relayAbort = new AbortController();
  const relay = createHealthLakeEventRelay({
    sqs: local.sqs,
    queueUrl: local.eventsQueueUrl!,
    client: temporal.env.client,
    waitTimeSeconds: 1,
    retryDelaySeconds: 1,
    logger: quiet,
  });
  const relayRun = relay.run(relayAbort.signal);
  try {
    await ensureBucket(local.s3, BUCKET);
    const bytesPerPatient = generateFhirData({ patients: 20, seed: 1 }).counts.bytes / 20;
    return await Promise.all(
      options.jobLengthsMs.map(async (lengthMs, i) => {
        const { DatastoreId } = await local.healthLake.send(
          new CreateFHIRDatastoreCommand({ DatastoreTypeVersion: 'R4', DatastoreName: `push-${i}` }),
        );
        const datastoreId = DatastoreId!;
        await waitForDatastore(local.healthLake, datastoreId);
        const targetBytes = lengthMs * options.timeScale * MEGABYTES_PER_SECOND * 1_000; // MB/s → bytes/ms
        const patients = Math.max(1, Math.round(targetBytes / bytesPerPatient));
        await writeFhirDataToS3(
          generateFhirData({ patients, seed: i + 1 }),
          local.s3,
          `s3://${BUCKET}/job-${i}/`,
        );
        const handle = await temporal.env.client.workflow.start(fhirImportWorkflow, {
          taskQueue,
          workflowId: `push-bench-${events ? 'on' : 'off'}-${i}`,
          args: [
            {
              datastoreId,
              inputS3Uri: `s3://${BUCKET}/job-${i}/`,
              outputS3Uri: `s3://${BUCKET}/out-${i}/`,
              kmsKeyId: KMS,
              dataAccessRoleArn: ROLE,
              validationLevel: 'minimal',
              pollPolicy: policy,
            },
          ],
        });
        const result = await handle.result();
        const closeTime = (await handle.describe()).closeTime!.getTime();
        const endMs = Date.parse(result.endTime!);
        return {
          jobLengthMs: lengthMs,
          jobWallMs: endMs - Date.parse(result.submitTime),
          detectionLatencyMs: Math.max(0, closeTime - endMs),
          describeCalls: describes.get(datastoreId) ?? 0,
          listCalls: lists.get(datastoreId) ?? 0,
          detectedBy:
            result.progress.jobEvents?.detectedBy === 'event' ? ('event' as const) : ('poll' as const),
        };
      }),
    );
  } finally {
    relayAbort.abort();
    await relayRun;
    worker.shutdown();
    await running;
    sdk.destroy();
    await Promise.allSettled([temporal.teardown(), local.stop()]);
  }
}

/** p50 of a list of numbers (the lower middle for an even count). */
export function p50(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}

const MINUTE = 60_000;

async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const jsonAt = argv.indexOf('--json');
  const jobLengthsMs = quick
    ? [0.5 * MINUTE, 10 * MINUTE, 30 * MINUTE]
    : [0.5 * MINUTE, 10 * MINUTE, 30 * MINUTE, 60 * MINUTE];
  const timeScale = quick ? 1 / 150 : 1 / 60;
  const report: Record<string, unknown> = { strategy: PUSH_STRATEGY, timeScale, jobLengthsMs, runs: {} };
  for (const events of [true, false]) {
    const rows = await measurePush({ jobLengthsMs, timeScale, events });
    (report.runs as Record<string, unknown>)[events ? 'eventsOn' : 'eventsOff'] = {
      p50DetectionLatencyMs: p50(rows.map((r) => r.detectionLatencyMs)),
      maxDescribeCalls: Math.max(...rows.map((r) => r.describeCalls)),
      jobs: rows,
    };
    console.log(
      `\n${PUSH_STRATEGY}, events ${events ? 'on' : 'off'} (time scale 1/${Math.round(1 / timeScale)}):`,
    );
    console.log('job length   job (wall)   detection   Describe   List   detected by');
    for (const r of rows) {
      console.log(
        `${`${(r.jobLengthMs / MINUTE).toFixed(1)} min`.padEnd(12)} ${`${(r.jobWallMs / 1000).toFixed(1)} s`.padEnd(12)} ` +
          `${`${(r.detectionLatencyMs / 1000).toFixed(2)} s`.padEnd(11)} ${String(r.describeCalls).padEnd(10)} ` +
          `${String(r.listCalls).padEnd(6)} ${r.detectedBy}`,
      );
    }
    console.log(`p50 detection ${(p50(rows.map((r) => r.detectionLatencyMs)) / 1000).toFixed(2)} s`);
  }
  if (jsonAt >= 0) writeFileSync(argv[jsonAt + 1]!, `${JSON.stringify(report, null, 2)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
