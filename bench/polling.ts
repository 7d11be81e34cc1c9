// `npm run bench -- polling [--quick] [--jobs N] [--scale S] [--seed N] [--out FILE]`
//
// Every strategy waits for its own copy of the SAME fake jobs, in the SAME run, on a real Temporal
// dev server. ONE time-scale factor S divides every production duration: the poll policy (floor,
// cap, QUEUED wait, report refresh, progress interval, in-attempt limit), the AWS waiter's delay,
// the job timelines, the API queue's rate (multiplied) and the server's retry-timer granularity
// (`history.timerProcessorMaxTimeShift`, 1 s by default). Figures are reported in production
// time (bench ms × S). Jobs: IN_PROGRESS lengths log-spaced 5-120 min, seeded random end phases
// (bench/jobs.ts).
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ResourceNotFoundException,
  waitUntilFHIRImportJobCompleted,
  type HealthLakeClient,
  type ImportJobProperties,
} from '@aws-sdk/client-healthlake';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { HealthLakeImportApi } from '../activities';
import { createHealthLakeEventRelay, type RelayStats } from '../client/event-relay';
import { createJobEvents, type JobEvents } from '../emulator/events';
import type { JobRecord } from '../emulator/state/records';
import { localSqsClient, startS3Server } from '../emulator/testing';
import { createLocalTestEnv } from '../worker/dev-server';
import { createWorkerActivities } from '../worker/index';
import { DEFAULT_EVENT_SAFETY_NET_DELAY_MS } from '../workflows/job-events';
import {
  DEFAULT_POLL_POLICY,
  importSearchAttributes,
  type FhirImportResult,
  type PollPolicy,
} from '../workflows/types';
import { jobStateAt, makeJobTimelines, mean, percentile, type JobTimeline } from './jobs';
import type { BenchWaitInput, SdkWaiterInput } from './polling-workflows';
import { PUSH_STRATEGY } from './push';

const EventType = temporal.api.enums.v1.EventType;
const DATASTORE = 'be0123456789abcdef0123456789abcd';
const INPUT_S3_URI = 's3://bench-in/jobs/';
/** The AWS SDK's waiter for imports: `minDelay` = `maxDelay` = 120 s (@aws-sdk/client-healthlake 3.1048, dist-cjs). */
export const SDK_WAITER_DELAY_S = 120;
/** The dev server's retry-timer granularity in production (`history.timerProcessorMaxTimeShift`). */
const SERVER_TIMER_SHIFT_MS = 1_000;
/** A timeout, not a schedule: scaled, but never below this so a busy 2-core machine does not time out attempts. */
const MIN_BENCH_ATTEMPT_TIMEOUT_MS = 2_000;

/** One job as a strategy sees it. */
export interface BenchJob {
  readonly jobId: string;
  readonly datastoreId: string;
  readonly inputS3Uri: string;
  readonly timeline: JobTimeline;
}

/** Everything a strategy needs to wait for one job. */
export interface PollingStrategyContext {
  readonly client: Client;
  /** The bench worker's task queue (workflows and every activity, including the HealthLake API ones). */
  readonly taskQueue: string;
  /** The workflow id the bench reads history and close time from: start exactly this one. */
  readonly workflowId: string;
  readonly job: BenchJob;
  /** The production poll policy divided by the scale. */
  readonly policy: PollPolicy;
  /** Production ms per bench ms. */
  readonly scale: number;
}

/**
 * A polling strategy: starts ONE workflow with id `ctx.workflowId` that waits for `ctx.job` to end,
 * and resolves when that workflow has closed. The bench measures everything else (HealthLake calls
 * per job from the fake, history, billed actions, detection latency = close time - job end).
 * Adding a strategy is one line in {@link POLLING_STRATEGIES}; workflows go in
 * bench/polling-workflows.ts, activities in {@link benchActivities}.
 */
export type PollingStrategy = (ctx: PollingStrategyContext) => Promise<void>;

function manifestRef(job: BenchJob) {
  return {
    s3Uri: job.inputS3Uri,
    totalObjects: 1,
    totalBytes: job.timeline.totalBytes,
    totalLines: 1,
    manifestS3Uri: 's3://bench-manifests/manifest.json',
    manifestSha256: '0'.repeat(64),
  };
}

async function runWorkflow(ctx: PollingStrategyContext, type: string, input: unknown): Promise<void> {
  const handle = await ctx.client.workflow.start(type, {
    taskQueue: ctx.taskQueue,
    workflowId: ctx.workflowId,
    args: [input],
  });
  await handle.result();
}

function ourInput(ctx: PollingStrategyContext, knownTotal: boolean) {
  return {
    datastoreId: ctx.job.datastoreId,
    existingJobId: ctx.job.jobId,
    inputS3Uri: ctx.job.inputS3Uri,
    outputS3Uri: 's3://bench-out/out',
    kmsKeyId: 'alias/bench',
    dataAccessRoleArn: 'arn:aws:iam::123456789012:role/bench',
    apiTaskQueue: ctx.taskQueue,
    pollPolicy: ctx.policy,
    ...(knownTotal ? { manifest: manifestRef(ctx.job) } : {}),
  };
}

/**
 * How long push + poll's first Describe waits for the job's first event, in bench (wall) ms: the
 * production `initialDelayMs` (5 s), NOT scaled, because what it waits for is the event path (SQS,
 * the relay's long poll and its redelivery of a Submitted event sent before the import was
 * searchable, the signal), which runs in real time here. Scaled (42 ms at S = 120) it was shorter
 * than one relay redelivery (1 s), so every push job paid a first Describe that production (5 s
 * against ~0.5-2 s for the first event) does not.
 */
export const FIRST_EVENT_WAIT_WALL_MS = DEFAULT_POLL_POLICY.initialDelayMs;

/**
 * Push + poll's policy: the bench's scaled policy plus the event settings a caller running the relay
 * sets (as bench/push.ts does): the first Describe waits up to {@link FIRST_EVENT_WAIT_WALL_MS} for
 * the job's first event, and while events arrive polling is the safety net
 * (`eventSafetyNetDelayMs`, scaled like every poll).
 */
function pushPolicy(ctx: PollingStrategyContext): PollPolicy {
  return {
    ...ctx.policy,
    eventSafetyNetDelayMs: Math.max(1, Math.round(DEFAULT_EVENT_SAFETY_NET_DELAY_MS / ctx.scale)),
    awaitFirstEventMs: FIRST_EVENT_WAIT_WALL_MS,
  };
}

/** The strategies, by the name the results use. */
export const POLLING_STRATEGIES: Record<string, PollingStrategy> = {
  // fhirImportWorkflow attached to the job, with the known total (a manifest, or the one-time S3
  // listing of the input prefix: it costs no HealthLake call).
  'temporal-healthlake': (ctx) => runWorkflow(ctx, 'fhirImportWorkflow', ourInput(ctx, true)),
  // The same without a known total (no ETA): the backoff to the 60 s cap.
  'temporal-healthlake-no-total': (ctx) => runWorkflow(ctx, 'fhirImportWorkflow', ourInput(ctx, false)),
  // The first, woken by HealthLake's job events: the fake sends each status change as the
  // EventBridge envelope to moto SQS, the real relay signals the import (see runPollingBench).
  [PUSH_STRATEGY]: (ctx) =>
    runWorkflow(ctx, 'fhirImportWorkflow', { ...ourInput(ctx, true), pollPolicy: pushPolicy(ctx) }),
  // temporal-healthlake-push without a known total: the safety net backs off (10, 30, 70 min; with
  // a total its Describe is placed after the expected end). A short name: job ids are
  // `<strategy>-<index>`, and an existing job id has at most 32 characters.
  'push-no-total': (ctx) =>
    runWorkflow(ctx, 'fhirImportWorkflow', { ...ourInput(ctx, false), pollPolicy: pushPolicy(ctx) }),
  'sdk-waiter': (ctx) =>
    runWorkflow(ctx, 'sdkWaiterWait', {
      datastoreId: ctx.job.datastoreId,
      jobId: ctx.job.jobId,
      pollPolicy: ctx.policy,
      apiTaskQueue: ctx.taskQueue,
      delaySeconds: SDK_WAITER_DELAY_S / ctx.scale,
    } satisfies SdkWaiterInput),
  'workflow-loop': (ctx) =>
    runWorkflow(ctx, 'workflowLoopWait', {
      datastoreId: ctx.job.datastoreId,
      jobId: ctx.job.jobId,
      pollPolicy: ctx.policy,
      apiTaskQueue: ctx.taskQueue,
      totalBytes: ctx.job.timeline.totalBytes,
    } satisfies BenchWaitInput),
};

/** The production poll policy divided by `scale` (whole ms, as the input rules require). */
export function scaledPolicy(scale: number, base: PollPolicy = DEFAULT_POLL_POLICY): PollPolicy {
  const ms = (value: number) => Math.max(1, Math.round(value / scale));
  return {
    ...base,
    initialDelayMs: ms(base.initialDelayMs),
    minDelayMs: ms(base.minDelayMs),
    maxDelayMs: ms(base.maxDelayMs),
    queuedDelayMs: ms(base.queuedDelayMs),
    attemptTimeoutMs: Math.max(MIN_BENCH_ATTEMPT_TIMEOUT_MS, ms(base.attemptTimeoutMs)),
    inAttemptWaitMaxMs: ms(base.inAttemptWaitMaxMs),
    reportRefreshMs: ms(base.reportRefreshMs ?? 30_000),
    progressIntervalMs: ms(base.progressIntervalMs ?? 300_000),
  };
}

interface FakeJob {
  readonly timeline: JobTimeline;
  readonly startMs: number;
  describes: number;
  lists: number;
}

/** Strategies whose jobs send HealthLake's job events (to moto SQS, read by the real relay). */
const EVENT_STRATEGIES: ReadonlySet<string> = new Set([PUSH_STRATEGY, 'push-no-total']);

/**
 * The in-process fake HealthLake: scaled timelines, per-job call counters. A job added with
 * `events` sends each status change (SUBMITTED at once, IN_PROGRESS and COMPLETED at the
 * timeline's scaled times) through the emulator's publisher: the EventBridge envelope to SQS.
 */
export function timelineHealthLake(scale: number) {
  const jobs = new Map<string, FakeJob>();
  const timers = new Set<NodeJS.Timeout>();
  const at = (ms: number, fn: () => void): void => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        fn();
      },
      Math.max(0, ms - Date.now()),
    );
    timers.add(timer);
  };
  const endMs = (job: FakeJob) => job.startMs + (job.timeline.submittedMs + job.timeline.runMs) / scale;
  const properties = (jobId: string): ImportJobProperties => {
    const job = jobs.get(jobId);
    if (!job) throw new ResourceNotFoundException({ message: `unknown job ${jobId}`, $metadata: {} });
    const now = Date.now();
    const state = jobStateAt(job.timeline, (now - job.startMs) * scale);
    return {
      JobId: jobId,
      JobStatus: state.status,
      SubmitTime: new Date(job.startMs),
      DatastoreId: DATASTORE,
      InputDataConfig: { S3Uri: INPUT_S3_URI },
      JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://bench-out/out', KmsKeyId: 'alias/bench' } },
      DataAccessRoleArn: 'arn:aws:iam::123456789012:role/bench',
      JobProgressReport: {
        TotalNumberOfScannedFiles: state.files,
        TotalSizeOfScannedFilesInMB: state.scannedMb,
        TotalNumberOfImportedFiles: state.files,
        TotalNumberOfResourcesScanned: state.resources,
        TotalNumberOfResourcesImported: state.resources,
        TotalNumberOfResourcesWithCustomerError: 0,
        TotalNumberOfFilesReadWithCustomerError: 0,
        Throughput: 0,
      },
      ...(state.status === 'COMPLETED' ? { EndTime: new Date(endMs(job)) } : {}),
    };
  };
  const api: HealthLakeImportApi = {
    startFHIRImportJob: () => Promise.reject(new Error('the polling bench attaches to existing jobs')),
    listFHIRImportJobs: async () => ({ ImportJobPropertiesList: [] }),
    describeFHIRImportJob: async (input) => {
      const job = jobs.get(input.JobId!);
      if (job) job.describes++;
      if (job && process.env.BENCH_TRACE === input.JobId) {
        const state = jobStateAt(job.timeline, (Date.now() - job.startMs) * scale);
        console.error(
          `trace ${input.JobId} t=${(((Date.now() - job.startMs) * scale) / 1000).toFixed(1)}s ${state.status} ${state.scannedMb}MB`,
        );
      }
      return { ImportJobProperties: properties(input.JobId!) };
    },
  };
  // The SDK waiter speaks the command style (client.send(DescribeFHIRImportJobCommand)).
  const client = {
    send: async (command: { input: { JobId: string } }) => {
      const job = jobs.get(command.input.JobId);
      if (job) job.describes++;
      return { ImportJobProperties: properties(command.input.JobId) };
    },
  } as unknown as HealthLakeClient;
  return {
    api,
    client,
    add(jobId: string, timeline: JobTimeline, startMs: number, events?: JobEvents): void {
      const job: FakeJob = { timeline, startMs, describes: 0, lists: 0 };
      jobs.set(jobId, job);
      if (!events) return;
      const record: JobRecord = {
        kind: 'import',
        jobId,
        datastoreId: DATASTORE,
        status: 'SUBMITTED',
        submitTimeMs: startMs,
        inputS3Uri: INPUT_S3_URI,
        outputS3Uri: 's3://bench-out/out',
        kmsKeyId: 'alias/bench',
        dataAccessRoleArn: 'arn:aws:iam::123456789012:role/bench',
        requestFingerprint: jobId,
        restarts: 0,
      };
      events.jobCreated(record);
      at(startMs + timeline.submittedMs / scale, () => {
        record.status = 'IN_PROGRESS';
        events.jobChanged(record);
      });
      at(endMs(job), () => {
        record.status = 'COMPLETED';
        record.endTimeMs = endMs(job);
        events.jobChanged(record);
      });
    },
    /** Cancels status-change events not yet due. */
    stop(): void {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
    job: (jobId: string) => jobs.get(jobId)!,
    endMs: (jobId: string) => endMs(jobs.get(jobId)!),
  };
}

interface Meter {
  attempts: number;
  heartbeats: number;
  slotMs: number;
}

/** Counts activity attempts, heartbeat calls and slot time per workflow id. */
function metered<T extends object>(activities: T, meters: Map<string, Meter>): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities) as Array<
    [string, (...args: unknown[]) => Promise<unknown>]
  >) {
    wrapped[name] = async (...args: unknown[]) => {
      const ctx = Context.current();
      const id = ctx.info.workflowExecution?.workflowId ?? 'unknown';
      const meter = meters.get(id) ?? { attempts: 0, heartbeats: 0, slotMs: 0 };
      meters.set(id, meter);
      meter.attempts++;
      const heartbeat = ctx.heartbeat.bind(ctx);
      Object.defineProperty(ctx, 'heartbeat', {
        value: (details: unknown) => {
          meter.heartbeats++;
          heartbeat(details);
        },
      });
      const started = Date.now();
      try {
        return await fn(...args);
      } finally {
        meter.slotMs += Date.now() - started;
      }
    };
  }
  return wrapped as T;
}

/** The activities of every strategy (the project's own, plus the waiter's). */
function benchActivities(fake: ReturnType<typeof timelineHealthLake>) {
  return {
    ...createWorkerActivities({ healthLake: fake.api }),
    sdkWaiter: async (input: SdkWaiterInput): Promise<string> => {
      const result = await waitUntilFHIRImportJobCompleted(
        {
          client: fake.client,
          maxWaitTime: 7_200,
          minDelay: input.delaySeconds,
          maxDelay: input.delaySeconds,
        },
        { DatastoreId: input.datastoreId, JobId: input.jobId },
      );
      return result.state;
    },
  };
}

/** One job's figures under one strategy (production ms). */
interface JobSample {
  readonly nominalMinutes: number;
  readonly describeCalls: number;
  readonly listCalls: number;
  readonly detectionLatencyMs: number;
  /** The same in bench (wall) ms, unscaled: the event path (SQS, relay, signal) runs in real time. */
  readonly detectionLatencyWallMs: number;
  /** Event strategies: what found the end (the import's `progress.jobEvents.detectedBy`). */
  readonly detectedBy?: 'event' | 'poll';
  readonly historyEvents: number;
  readonly billedActions: number;
  readonly workerSlotMs: number;
}

/** Figures over a set of jobs (what `polling-latest.json` holds per strategy and bucket). */
export interface PollingFigures {
  readonly jobs: number;
  readonly describeCallsPerJob: { p50: number; mean: number };
  readonly listCallsPerJob: { mean: number };
  readonly callsPerJob: { mean: number };
  readonly detectionLatencyMs: { p50: number; p90: number };
  /** Bench wall ms, not scaled (for the real-time event path; the rest is × scale). */
  readonly detectionLatencyWallMs: { p50: number; p90: number };
  /**
   * Event strategies only: jobs whose end the Completed event found, and their detection latency in
   * wall ms, unscaled. The event path does not depend on the job's length or on the bench's scale
   * (every step is real time), so this is the figure issue 10's ≤ 2 s target is judged on (plus
   * EventBridge's own delivery and a real Describe's round trip, which the bench does not have).
   */
  readonly eventPath?: { readonly jobs: number; readonly detectionLatencyMs: { p50: number; p90: number } };
  readonly billedActionsPerJob: { p50: number; mean: number; max: number };
  readonly historyEventsPerJob: { max: number };
  readonly workerSlotMsPerJob: { mean: number };
}

/** p50 and p90 of `values`, rounded to whole ms. */
function roundedP50P90(values: readonly number[]): { p50: number; p90: number } {
  return { p50: Math.round(percentile(values, 50)), p90: Math.round(percentile(values, 90)) };
}

function figures(samples: readonly JobSample[]): PollingFigures {
  const byEvent = samples.filter((s) => s.detectedBy === 'event').map((s) => s.detectionLatencyWallMs);
  return {
    jobs: samples.length,
    describeCallsPerJob: {
      p50: percentile(
        samples.map((s) => s.describeCalls),
        50,
      ),
      mean: mean(samples.map((s) => s.describeCalls)),
    },
    listCallsPerJob: { mean: mean(samples.map((s) => s.listCalls)) },
    callsPerJob: { mean: mean(samples.map((s) => s.describeCalls + s.listCalls)) },
    detectionLatencyMs: roundedP50P90(samples.map((s) => s.detectionLatencyMs)),
    detectionLatencyWallMs: roundedP50P90(samples.map((s) => s.detectionLatencyWallMs)),
    ...(samples.some((s) => s.detectedBy !== undefined)
      ? {
          eventPath: {
            jobs: byEvent.length,
            detectionLatencyMs: byEvent.length === 0 ? { p50: NaN, p90: NaN } : roundedP50P90(byEvent),
          },
        }
      : {}),
    billedActionsPerJob: {
      p50: percentile(
        samples.map((s) => s.billedActions),
        50,
      ),
      mean: mean(samples.map((s) => s.billedActions)),
      max: Math.max(...samples.map((s) => s.billedActions)),
    },
    historyEventsPerJob: { max: Math.max(...samples.map((s) => s.historyEvents)) },
    workerSlotMsPerJob: { mean: Math.round(mean(samples.map((s) => s.workerSlotMs))) },
  };
}

export interface PollingOptions {
  readonly jobs: number;
  readonly scale: number;
  readonly seed: number;
  readonly out: string;
  /** Strategy names to run. @default all of {@link POLLING_STRATEGIES} */
  readonly strategies?: readonly string[];
}

export async function runPollingBench(options: PollingOptions): Promise<unknown> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { scale } = options;
  const policy = scaledPolicy(scale);
  const timerShiftMs = Math.max(1, Math.round(SERVER_TIMER_SHIFT_MS / scale));
  const local = await createLocalTestEnv({
    searchAttributes: importSearchAttributes,
    dynamicConfig: { 'history.timerProcessorMaxTimeShift': `${timerShiftMs}ms` },
  });
  const names = options.strategies ?? Object.keys(POLLING_STRATEGIES);
  const timelines = makeJobTimelines(options.jobs, options.seed);
  const fake = timelineHealthLake(scale);
  const meters = new Map<string, Meter>();
  const taskQueue = `bench-polling-${Date.now()}`;
  const runId = Date.now().toString(36);
  const push = names.some((name) => EVENT_STRATEGIES.has(name))
    ? await startEventPath(local.env.client)
    : undefined;
  try {
    const worker = await Worker.create({
      connection: local.env.nativeConnection,
      taskQueue,
      activities: metered(benchActivities(fake), meters),
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./polling-workflows'),
        logger: new DefaultLogger('ERROR'),
      }),
      // The production API rate (8 activities/s), scaled like everything else.
      maxTaskQueueActivitiesPerSecond: 8 * scale,
      maxConcurrentActivityTaskExecutions: 1_000,
    });
    const startMs = Date.now();
    const cases = names.flatMap((name) =>
      timelines.map((timeline, index) => {
        const jobId = `${name}-${index}`;
        fake.add(jobId, timeline, startMs, EVENT_STRATEGIES.has(name) ? push?.events : undefined);
        return { name, jobId, timeline, workflowId: `${taskQueue}-${runId}-${jobId}` };
      }),
    );
    const longestMs = Math.max(...timelines.map((t) => t.submittedMs + t.runMs)) / scale;
    console.error(
      `polling: ${cases.length} waits (${names.length} strategies × ${timelines.length} jobs), scale 1/${scale}, ` +
        `longest job ${(longestMs / 1000).toFixed(0)} s of bench time; timer shift ${timerShiftMs} ms`,
    );
    const samples = await worker.runUntil(
      Promise.all(
        cases.map(async (c) => {
          const strategy = POLLING_STRATEGIES[c.name];
          if (!strategy)
            throw new Error(
              `unknown strategy ${c.name}; known: ${Object.keys(POLLING_STRATEGIES).join(', ')}`,
            );
          await strategy({
            client: local.env.client,
            taskQueue,
            workflowId: c.workflowId,
            job: { jobId: c.jobId, datastoreId: DATASTORE, inputS3Uri: INPUT_S3_URI, timeline: c.timeline },
            policy,
            scale,
          });
          const handle = local.env.client.workflow.getHandle(c.workflowId);
          const description = await handle.describe();
          const events = (await handle.fetchHistory()).events ?? [];
          const count = (type: temporal.api.enums.v1.EventType) =>
            events.filter((e) => e.eventType === type).length;
          const localActivities = events.filter(
            (e) =>
              e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
              e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
          ).length;
          const meter = meters.get(c.workflowId) ?? { attempts: 0, heartbeats: 0, slotMs: 0 };
          const job = fake.job(c.jobId);
          const closeMs = description.closeTime?.getTime() ?? Date.now();
          const detectedBy = EVENT_STRATEGIES.has(c.name)
            ? ((await handle.result()) as FhirImportResult).progress.jobEvents?.detectedBy
            : undefined;
          return {
            name: c.name,
            sample: {
              nominalMinutes: c.timeline.nominalMinutes,
              describeCalls: job.describes,
              listCalls: job.lists,
              detectionLatencyMs: (closeMs - fake.endMs(c.jobId)) * scale,
              detectionLatencyWallMs: closeMs - fake.endMs(c.jobId),
              ...(detectedBy === undefined ? {} : { detectedBy }),
              historyEvents: events.length,
              // Temporal Cloud actions (at most: the SDK may coalesce heartbeats): the start, each
              // activity attempt, heartbeats, timers, search-attribute upserts, local activities.
              billedActions:
                1 +
                meter.attempts +
                meter.heartbeats +
                count(EventType.EVENT_TYPE_TIMER_STARTED) +
                count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) +
                localActivities,
              workerSlotMs: meter.slotMs * scale,
            } satisfies JobSample,
          };
        }),
      ),
    );
    const relayStats = await push?.stop();
    const strategies: Record<
      string,
      { all: PollingFigures; atLeast60Min: PollingFigures; perJob: readonly unknown[] }
    > = {};
    for (const name of names) {
      const mine = samples.filter((s) => s.name === name).map((s) => s.sample);
      strategies[name] = {
        all: figures(mine),
        atLeast60Min: figures(mine.filter((s) => s.nominalMinutes >= 60)),
        // Per job length (the targets hold "at every job length").
        perJob: mine.map((s) => ({
          minutes: s.nominalMinutes,
          describeCalls: s.describeCalls,
          detectionLatencyMs: Math.round(s.detectionLatencyMs),
          detectionLatencyWallMs: s.detectionLatencyWallMs,
          ...(s.detectedBy === undefined ? {} : { detectedBy: s.detectedBy }),
        })),
      };
    }
    const waiter = strategies['sdk-waiter'];
    const ratios: Record<string, unknown> = {};
    if (waiter) {
      for (const [name, s] of Object.entries(strategies)) {
        if (name === 'sdk-waiter') continue;
        const r = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 100) / 100);
        ratios[name] = {
          callsPerJobVsWaiter: {
            atLeast60Min: r(s.atLeast60Min.callsPerJob.mean, waiter.atLeast60Min.callsPerJob.mean),
            all: r(s.all.callsPerJob.mean, waiter.all.callsPerJob.mean),
          },
          p50DetectionVsWaiter: {
            atLeast60Min: r(
              s.atLeast60Min.detectionLatencyMs.p50,
              waiter.atLeast60Min.detectionLatencyMs.p50,
            ),
            all: r(s.all.detectionLatencyMs.p50, waiter.all.detectionLatencyMs.p50),
          },
        };
      }
    }
    const result = {
      scenario: 'polling',
      date: new Date().toISOString(),
      note: 'production-equivalent ms (bench ms × scale); calls are Describe + List per job',
      scale,
      seed: options.seed,
      jobsPerStrategy: timelines.length,
      jobLengthsMinutes: timelines.map((t) => t.nominalMinutes),
      policy: DEFAULT_POLL_POLICY,
      sdkWaiterDelayMs: SDK_WAITER_DELAY_S * 1000,
      wallMs: Date.now() - startMs,
      strategies: Object.fromEntries(
        Object.entries(strategies).map(([n, s]) => [
          n,
          { ...s.all, atLeast60Min: s.atLeast60Min, perJob: s.perJob },
        ]),
      ),
      ratios,
      // The one relay's counters, over every job of the event strategies: its visibility queries
      // (`lookups`) are Temporal calls, not HealthLake's.
      ...(relayStats
        ? {
            relay: {
              ...relayStats,
              jobs: cases.filter((c) => EVENT_STRATEGIES.has(c.name)).length,
            },
          }
        : {}),
    };
    mkdirSync(dirname(resolve(options.out)), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
    printPolling(strategies);
    console.log(JSON.stringify(ratios, null, 2));
    console.log(`written: ${options.out}`);
    return result;
  } finally {
    fake.stop();
    await push?.stop();
    await local.teardown();
  }
}

/**
 * HealthLake's job events on the real path: moto's SQS (the moto server serves SQS on its S3
 * port), the emulator's publisher (its envelope builder and sender) filled by the fake's status
 * changes, and ONE relay (client/event-relay.ts) turning them into signals. The relay's waits
 * (long poll, redelivery of an event that came before its import was searchable) are real time,
 * not scaled.
 */
async function startEventPath(client: Client) {
  const moto = await startS3Server();
  const sqs = localSqsClient(moto.endpoint);
  const abort = new AbortController();
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-healthlake-events' }));
    const events = createJobEvents({
      queueUrl: QueueUrl!,
      region: 'us-east-1',
      accountId: '123456789012',
      nowMs: Date.now,
      sqs,
      onError: (message) => console.error(message),
    });
    const relay = createHealthLakeEventRelay({
      sqs,
      queueUrl: QueueUrl!,
      client,
      waitTimeSeconds: 1,
      retryDelaySeconds: 1,
      logger: { info: () => undefined, warn: (message) => console.error(`relay: ${message}`) },
    });
    const running = relay.run(abort.signal);
    let stopped: Promise<RelayStats> | undefined;
    return {
      events,
      /** Stops the relay (after its long poll in flight), the publisher and moto; once. */
      stop(): Promise<RelayStats> {
        stopped ??= (async () => {
          abort.abort();
          await running;
          await events.stop();
          sqs.destroy();
          await moto.stop();
          return relay.stats();
        })();
        return stopped;
      },
    };
  } catch (err) {
    sqs.destroy();
    await moto.stop();
    throw err;
  }
}

function printPolling(
  strategies: Record<string, { all: PollingFigures; atLeast60Min: PollingFigures }>,
): void {
  const rows = [];
  for (const [name, s] of Object.entries(strategies)) {
    for (const [bucket, f] of [
      ['all', s.all],
      ['≥60 min', s.atLeast60Min],
    ] as const) {
      rows.push({
        strategy: name,
        jobs: `${bucket} (${f.jobs})`,
        'Describe p50/mean': `${f.describeCallsPerJob.p50} / ${f.describeCallsPerJob.mean}`,
        'List mean': f.listCallsPerJob.mean,
        'detection p50/p90 s': `${(f.detectionLatencyMs.p50 / 1000).toFixed(1)} / ${(f.detectionLatencyMs.p90 / 1000).toFixed(1)}`,
        'wall p50 ms': f.detectionLatencyWallMs.p50,
        'event path p50/p90 ms': f.eventPath
          ? `${f.eventPath.detectionLatencyMs.p50} / ${f.eventPath.detectionLatencyMs.p90} (${f.eventPath.jobs})`
          : '',
        'actions p50/max': `${f.billedActionsPerJob.p50} / ${f.billedActionsPerJob.max}`,
        'history max': f.historyEventsPerJob.max,
        'slot min/job': (f.workerSlotMsPerJob.mean / 60_000).toFixed(1),
      });
    }
  }
  console.table(rows);
}
