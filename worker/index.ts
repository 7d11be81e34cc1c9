// The HealthLake worker: one Worker for workflows (and the pipeline's own activities) on the main
// task queue, and one for HealthLake API calls on the API task queue, whose server-enforced rate
// is the account's Describe/List budget shared by every worker.
import { HealthLake, type HealthLakeClientConfig } from '@aws-sdk/client-healthlake';
import { S3Client } from '@aws-sdk/client-s3';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createHealthLakeActivities, type HealthLakeImportApi } from '../activities';
import {
  createImportListCoalescer,
  type ImportListCoalescer,
  type ImportListCoalescerOptions,
} from '../activities/list-coalescer';
import { createCallBudget, withCallBudget, type CallBudget } from '../activities/call-budget';
import { createJobOutputActivities } from '../activities/job-output';
import { createLifecycleActivities } from '../activities/lifecycle';
import { createGateActivities } from '../activities/gate';
import { createLandingActivities, type LandingActivitiesOptions } from '../activities/landing';
import { createPipelineActivities } from '../activities/pipeline';
import { HEALTHLAKE_API_TASK_QUEUE_SUFFIX } from '../workflows/types';
import { createApiTaskQueueActivities, type ApiTaskQueueActivitiesOptions } from './api-task-queue';
import { instrumentHealthLakeApi } from './metrics';
import { createTracingPlugins, type HealthLakeTracingOptions } from './tracing';

/**
 * Share of HealthLake's ~10 Describe/List calls per second per account that our API task queue
 * may use: each activity attempt makes one call (the start makes a List and a Start), and the
 * rest is left for consoles, scripts and the SDK's own retries.
 */
export const DEFAULT_API_ACTIVITIES_PER_SECOND = 8;

/**
 * Workflows the main worker keeps cached (the SDK's default scales with memory and was measured at
 * 639 / 602 MB per worker with 2,000 waiting imports, ≈ 0.4 MB per cached workflow; 250 measured
 * 399 / 441 MB, issue 9). A waiting import's workflow runs a task only on a status change or a
 * progress return, so an evicted one costs one replay of a ~40-event history. Override with
 * `workerOptions.maxCachedWorkflows`.
 */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/** Everything the activities depend on. */
export interface WorkerActivityDeps {
  readonly healthLake: HealthLakeImportApi;
  /** For landing activities (registered when given). */
  readonly s3?: S3Client;
  /** More landing options (`directoryRoots`, part size). @default {} */
  readonly landing?: Omit<LandingActivitiesOptions, 's3'>;
  /** Epoch ms. @default Date.now */
  readonly clock?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /**
   * The API task queue this worker pairs with and its poller check, answered to the import workflow
   * by the local activity `healthLakeApiTaskQueue`. @default the workflow's task queue + '-healthlake-api'
   */
  readonly apiTaskQueue?: ApiTaskQueueActivitiesOptions;
}

/**
 * Every activity this project's workflows call, as ONE object: the main worker registers it whole.
 * Add a line here for each new activity factory.
 */
export function createWorkerActivities(deps: WorkerActivityDeps) {
  return {
    ...createHealthLakeActivities(deps),
    ...createGateActivities(),
    ...createPipelineActivities(),
    ...createApiTaskQueueActivities(deps.apiTaskQueue),
    ...(deps.s3 ? createLandingActivities({ ...deps.landing, s3: deps.s3 }) : {}),
    ...createLifecycleActivities(deps),
    ...(deps.s3 ? createJobOutputActivities({ s3: deps.s3 }) : {}),
  };
}

export interface HealthLakeWorkerOptions {
  /** Connection to the Temporal server. */
  readonly connection: NativeConnection;
  /** @default 'default' */
  readonly namespace?: string;
  /** Task queue of the workflows (and the non-HealthLake activities). */
  readonly taskQueue: string;
  /**
   * Task queue of the HealthLake API activities. Every worker of one AWS account should use the
   * same one, so its rate limit is the account's.
   * Import workflows run by this worker use it unless their input names another (they ask this
   * worker through a local activity), so it is set in one place only.
   * @default taskQueue + '-healthlake-api'
   */
  readonly apiTaskQueue?: string;
  /**
   * An import whose API task queue shows no poller for this long fails
   * `HealthLakeApiTaskQueueNotPolled` (it warns in the UI and the log from the first check); 0 only
   * warns. Queues with pollers are never failed, however long imports wait behind the rate limit.
   * @default 600_000
   */
  readonly apiTaskQueueUnpolledFailAfterMs?: number;
  /** Pause between two poller checks while an import's API queue has none, in ms. @default 30_000 */
  readonly apiTaskQueueCheckIntervalMs?: number;
  /**
   * HealthLake API activity attempts per second across ALL workers of the API task queue
   * (`maxTaskQueueActivitiesPerSecond`, enforced by the server). @default 8
   */
  readonly apiActivitiesPerSecond?: number;
  /** A ready HealthLake client (real, emulator or fake). Takes precedence over `healthLakeConfig`. */
  readonly healthLake?: HealthLakeImportApi;
  /**
   * Config for a new `HealthLake` client (`endpoint`, `region`, `credentials`, ...).
   * @default { maxAttempts: 1 } (AWS defaults otherwise; Temporal does the retrying)
   */
  readonly healthLakeConfig?: HealthLakeClientConfig;
  /**
   * S3 client for the landing activities, which are always registered (the pipeline's landing
   * needs them). @default new S3Client({ region: healthLakeConfig.region }) (AWS's credential chain)
   */
  readonly s3?: S3Client;
  /** More landing options, e.g. `directoryRoots: { inbox: '/data/inbox' }`. @default {} */
  readonly landing?: Omit<LandingActivitiesOptions, 's3'>;
  /** Pre-bundled workflow code (tests bundle once per file). @default bundles workflows/index */
  readonly workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra options for both workers (tuning, interceptors, identity). @default {} */
  readonly workerOptions?: Partial<
    Omit<
      WorkerOptions,
      'connection' | 'namespace' | 'taskQueue' | 'activities' | 'workflowBundle' | 'workflowsPath'
    >
  >;
  /**
   * Serve the import waits' polls with one ListFHIRImportJobs per data store, shared by every wait
   * on that store in this process (activities/list-coalescer.ts), instead of one Describe per job.
   * `true` takes the coalescer's defaults. With it, an API-queue dispatch no longer equals an AWS
   * call: raise `apiActivitiesPerSecond` accordingly (AWS calls are then about one List per data
   * store per `maxAgeMs` per worker process). @default false
   */
  readonly coalesceImportPolls?: boolean | ImportListCoalescerOptions;
  /**
   * HealthLake calls per second THIS process may make, every operation together (Start, List,
   * Describe, data store calls), enforced by a FIFO token bucket in front of the client
   * (activities/call-budget.ts): calls wait for their turn instead of being throttled by AWS. The
   * API queue's `apiActivitiesPerSecond` counts dispatches, and a start makes two calls while a
   * coalesced poll makes none; this counts calls. Set it to the account's share divided by the
   * number of worker processes (e.g. 10 / 2 = 5). @default unlimited (the API queue's rate only)
   */
  readonly healthLakeCallsPerSecond?: number;
  /**
   * OpenTelemetry tracing of workflows and activities on both workers (Temporal's
   * `OpenTelemetryPlugin`, see worker/tracing.ts; needs the optional peer dependency
   * `@temporalio/interceptors-opentelemetry`). With `workflowBundle`, bundle with
   * `plugins: await createTracingPlugins(tracing)` too. @default off (nothing loaded)
   */
  readonly tracing?: HealthLakeTracingOptions;
  /** Epoch ms for the activities. @default Date.now */
  readonly clock?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
}

/** The two workers, run and stopped together. */
export interface HealthLakeWorker {
  readonly main: Worker;
  readonly api: Worker;
  readonly taskQueue: string;
  readonly apiTaskQueue: string;
  /** The API worker's List coalescer, when `coalesceImportPolls` is set (its `stats` count calls). */
  readonly listCoalescer?: ImportListCoalescer;
  /** The process's call budget, when `healthLakeCallsPerSecond` is set (its `stats` count waits). */
  readonly callBudget?: CallBudget;
  /** Runs both until `shutdown()` (or a shutdown signal); rejects if either fails. */
  run(): Promise<void>;
  /** Runs both until `promise` settles, then shuts them down; resolves/rejects like `promise`. */
  runUntil<R>(promise: Promise<R>): Promise<R>;
  shutdown(): void;
}

/**
 * Creates the HealthLake worker pair.
 *
 * @example
 * const worker = await createHealthLakeWorker({
 *   connection: await NativeConnection.connect({ address }),
 *   taskQueue: 'fhir-imports',
 *   healthLakeConfig: { region: 'us-east-1' },
 * });
 * await worker.run();
 */
export async function createHealthLakeWorker(options: HealthLakeWorkerOptions): Promise<HealthLakeWorker> {
  const taskQueue = options.taskQueue;
  const apiTaskQueue = options.apiTaskQueue ?? `${taskQueue}${HEALTHLAKE_API_TASK_QUEUE_SUFFIX}`;
  // SDK retries off by default: Temporal retries with the poll backoff, and one activity attempt
  // stays one call against the account's budget.
  // Every HealthLake call made in an activity is counted (healthlake_api_requests, worker/metrics.ts).
  const instrumented = instrumentHealthLakeApi(
    options.healthLake ?? new HealthLake({ maxAttempts: 1, ...options.healthLakeConfig }),
  );
  const callBudget =
    options.healthLakeCallsPerSecond === undefined
      ? undefined
      : createCallBudget({ callsPerSecond: options.healthLakeCallsPerSecond });
  const healthLake = callBudget ? withCallBudget(instrumented, callBudget) : instrumented;
  const region = options.healthLakeConfig?.region;
  const activities = createWorkerActivities({
    healthLake,
    s3: options.s3 ?? new S3Client(region === undefined ? {} : { region }),
    ...(options.landing ? { landing: options.landing } : {}),
    apiTaskQueue: {
      apiTaskQueue,
      ...(options.apiTaskQueueUnpolledFailAfterMs === undefined
        ? {}
        : { unpolledFailAfterMs: options.apiTaskQueueUnpolledFailAfterMs }),
      ...(options.apiTaskQueueCheckIntervalMs === undefined
        ? {}
        : { checkIntervalMs: options.apiTaskQueueCheckIntervalMs }),
    },
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const coalesce = options.coalesceImportPolls;
  const listCoalescer =
    coalesce === undefined || coalesce === false
      ? undefined
      : createImportListCoalescer(healthLake, coalesce === true ? {} : coalesce);
  const tracing = options.tracing ? await createTracingPlugins(options.tracing) : undefined;
  const common = {
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    ...options.workerOptions,
    ...(tracing ? { plugins: [...(options.workerOptions?.plugins ?? []), ...tracing] } : {}),
  };
  const main = await Worker.create({
    maxCachedWorkflows: DEFAULT_MAX_CACHED_WORKFLOWS,
    ...common,
    taskQueue,
    activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
  const api = await Worker.create({
    ...common,
    taskQueue: apiTaskQueue,
    activities: {
      ...createLifecycleActivities({ healthLake, clock: options.clock, random: options.random }),
      ...createHealthLakeActivities({
        healthLake,
        ...(listCoalescer ? { listCoalescer } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.random ? { random: options.random } : {}),
      }),
    },
    maxTaskQueueActivitiesPerSecond: options.apiActivitiesPerSecond ?? DEFAULT_API_ACTIVITIES_PER_SECOND,
  });
  const shutdown = (): void => {
    for (const worker of [main, api]) if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  const run = async (): Promise<void> => {
    const runs = [main.run(), api.run()];
    try {
      await Promise.all(runs);
    } catch (err) {
      shutdown();
      await Promise.allSettled(runs);
      throw err;
    }
  };
  return {
    main,
    api,
    taskQueue,
    apiTaskQueue,
    ...(listCoalescer ? { listCoalescer } : {}),
    ...(callBudget ? { callBudget } : {}),
    run,
    shutdown,
    async runUntil<R>(promise: Promise<R>): Promise<R> {
      const running = run();
      const stoppedEarly = running.then(() => {
        throw new Error('the HealthLake workers stopped before the awaited promise settled');
      });
      try {
        return await Promise.race([promise, stoppedEarly]);
      } finally {
        shutdown();
        await running;
      }
    },
  };
}

export {
  createTracingPlugins,
  DEFAULT_TRACING_SERVICE_NAME,
  TRACING_PACKAGES,
  TracingDependencyMissing,
  type HealthLakeTracingOptions,
} from './tracing';
