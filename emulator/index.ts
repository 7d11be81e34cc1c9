// A local, wire-compatible AWS HealthLake: `startEmulator()` serves the 13 HealthLake operations
// over HTTP on 127.0.0.1 (awsJson1_0, as the real `@aws-sdk/client-healthlake` speaks it), runs
// import and export jobs against a real S3-compatible store, and exposes faults, counters and
// knobs through the returned handle and the `/_emulator/` control API.
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { createControlApi } from './control-api';
import { createEmulatorControls, type EmulatorControls } from './controls';
import { createDatastoreLifecycle } from './engine/datastore-lifecycle';
import type { ResourceLineCheck } from './engine/runtime';
import { createJobEngine } from './engine/scheduler';
import { createJobEvents, type EventFaultRule } from './events';
import { createCallCounters, createFaultInjector } from './faults';
import type { ServiceContext, Settings } from './operations/context';
import { createRateLimiter } from './quotas';
import { checkResourceLine } from './fhir/validate';
import { createS3Client } from './s3';
import { PRESETS, type PresetName, type QuotaSettings, type SpeedSettings } from './settings';
import { openStateStore } from './state/state-store';
import { LOCALHOST, startHttpServer, type RunningServer } from './server';
import { createAwsSurface } from './wire';

export { FAST_QUOTAS, FAST_SPEED, AWS_QUOTAS, AWS_SPEED, PRESETS } from './settings';
export type { PresetName, QuotaSettings, SpeedSettings, RateLimit } from './settings';
export type { FaultSpec, OperationCounters, Faults } from './faults';
/** A seeded PRNG (mulberry32) for `random`: the same seed gives the same fault sequence. */
export { createPrng as seededRandom } from './fhir/generate';
export type { EmulatorControls, JobSummary, SettingsUpdate } from './controls';
export { CONTROL_PREFIX } from './control-api';
export { EmulatorStartError, EmulatorStartProblem } from './errors';
export {
  HEALTHLAKE_EVENT_SOURCE,
  JOB_EVENT_DETAIL_TYPES,
  DATASTORE_EVENT_DETAIL_TYPES,
  jobEventEnvelope,
  datastoreEventEnvelope,
  type EventCounters,
  type EventFaultRule,
  type HealthLakeEventEnvelope,
  type HealthLakeJobEventEnvelope,
  type HealthLakeDatastoreEventEnvelope,
} from './events';

export interface EmulatorOptions {
  /** TCP port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
  /** Where state (data stores, jobs, resources) is kept across restarts. @default in memory */
  readonly dataDir?: string;
  /** The S3-compatible endpoint jobs read and write, e.g. moto's `http://127.0.0.1:5000`. @default AWS's S3 */
  readonly s3Endpoint?: string;
  /** An S3 client to use instead of one built from `s3Endpoint` (the emulator does not destroy it). @default none */
  readonly s3Client?: S3Client;
  /** Region in ARNs and endpoints. @default 'us-east-1' */
  readonly region?: string;
  /** Account id in ARNs. @default '123456789012' */
  readonly accountId?: string;
  /** Starting point for speed and quotas: `aws` mimics AWS, `fast` suits tests and the demo. @default 'aws' */
  readonly preset?: PresetName;
  /** Speed knobs over the preset's. @default the preset's */
  readonly speed?: Partial<SpeedSettings>;
  /** Quotas over the preset's. @default the preset's */
  readonly quotas?: Partial<QuotaSettings>;
  /** Randomness for fault injection, e.g. `seededRandom(42)`. @default Math.random */
  readonly random?: () => number;
  /** The clock for timestamps and quota buckets, epoch ms. @default Date.now */
  readonly nowMs?: () => number;
  /** Largest accepted request body, in bytes. @default 1_048_576 */
  readonly maxBodyBytes?: number;
  /** The FHIR line check used by imports. @default emulator/fhir/validate's checkResourceLine */
  readonly checkResourceLine?: ResourceLineCheck;
  /** Where unexpected internal errors are reported (never resource contents). @default console.error */
  readonly onError?: (message: string) => void;
  /**
   * Sends HealthLake's EventBridge events (`Import Job Completed`, `Data Store Active`, ...) as SQS
   * messages to this queue, the way an EventBridge rule with an SQS target delivers them, e.g. a queue on the moto
   * server the emulator uses for S3: `http://127.0.0.1:<port>/123456789012/healthlake-events`.
   * @default none (no events)
   */
  readonly eventsSqsQueueUrl?: string;
  /** Drop, delay or duplicate events (the first matching rule applies). @default [] (deliver all) */
  readonly eventFaults?: readonly EventFaultRule[];
}

export interface EmulatorHandle extends EmulatorControls {
  /** `http://127.0.0.1:<port>`: pass it as `endpoint` to `new HealthLakeClient(...)`. */
  readonly url: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** The S3 client jobs use. */
  readonly s3: S3Client;
  /** Resolves when no job is running or queued. */
  jobsSettled(): Promise<void>;
  /** Stops serving; running jobs stop at their next checkpoint and resume on the next start. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Starts the emulator. Talk to it with the real SDK:
 *
 * @example
 * const emulator = await startEmulator({ s3Endpoint, preset: 'fast' });
 * const healthLake = new HealthLakeClient({ endpoint: emulator.url, region: emulator.region,
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
 * await emulator.stop();
 *
 * @throws EmulatorStartError for a problem the caller must fix (corrupt `state.json`, unusable
 *   `dataDir`, busy port); nothing is left running or open when it throws.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<EmulatorHandle> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const nowMs = options.nowMs ?? Date.now;
  const onError = options.onError ?? ((message: string) => console.error(message));
  const preset = PRESETS[options.preset ?? 'aws'];
  const settings: Settings = {
    speed: { ...preset.speed, ...options.speed },
    quotas: { ...preset.quotas, ...options.quotas },
  };
  const state = await openStateStore(options.dataDir);
  const s3 = options.s3Client ?? createS3Client({ endpoint: options.s3Endpoint, region });
  const jobEvents = createJobEvents({
    queueUrl: options.eventsSqsQueueUrl,
    region,
    accountId,
    nowMs,
    onError,
    ...(options.eventFaults === undefined ? {} : { rules: options.eventFaults }),
  });
  const engine = createJobEngine({
    state,
    settings,
    s3,
    nowMs,
    onError,
    jobEvents,
    checkResourceLine: options.checkResourceLine ?? checkResourceLine,
  });
  const lifecycle = createDatastoreLifecycle(state, settings, nowMs, jobEvents);
  const ctx: ServiceContext = {
    state,
    region,
    accountId,
    settings,
    scheduler: engine,
    lifecycle,
    nowMs,
    newId: () => randomBytes(16).toString('hex'),
    jobEvents,
    datastoreEvents: jobEvents,
  };
  const faults = createFaultInjector(options.random ?? Math.random);
  const counters = createCallCounters();
  const controls = createEmulatorControls({
    state,
    engine,
    faults,
    counters,
    settings,
    lifecycle,
    events: jobEvents,
  });
  let server: RunningServer;
  try {
    server = await startHttpServer({
      port: options.port ?? 0,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      aws: createAwsSurface({ ctx, faults, counters, limiter: createRateLimiter(nowMs), onError }),
      control: createControlApi(controls),
      onError,
    });
  } catch (err) {
    // Nothing has run yet: release what was opened so a failed start leaves no handle behind.
    state.close();
    if (!options.s3Client) s3.destroy();
    await jobEvents.stop();
    throw err;
  }

  lifecycle.resume();
  engine.resume();

  return {
    ...controls,
    url: `http://${LOCALHOST}:${server.port}`,
    port: server.port,
    region,
    accountId,
    s3,
    jobsSettled: () => engine.settled(),
    async stop() {
      await server.close();
      lifecycle.stop();
      await engine.stop();
      await jobEvents.stop();
      state.close();
      if (!options.s3Client) s3.destroy();
    },
  };
}
