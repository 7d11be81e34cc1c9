// Measures Temporal's polling patterns for one HealthLake import wait on a real dev server, in one
// run: history events, activity attempts, heartbeats, billed actions, Describe calls, worker slot
// time and detection latency, for the chosen hybrid (fhirImportWorkflow), a heartbeating loop, a
// workflow loop, and the AWS SDK waiter baseline. Then models thousands of concurrent imports
// against HealthLake's ~10 Describe/List TPS per account with the production defaults.
//   npx tsx bench/polling-patterns.ts
// The job is an in-process fake with an exact timeline (SUBMITTED 0.5 s, IN_PROGRESS 24 s with
// counts moving every 3 s, then COMPLETED), so detection latency is measured against a known end.
import {
  ThrottlingException,
  waitUntilFHIRImportJobCompleted,
  type HealthLakeClient,
} from '@aws-sdk/client-healthlake';
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createHealthLakeActivities, type HealthLakeImportApi } from '../activities';
import { createLocalTestEnv } from '../worker/dev-server';
import { DEFAULT_POLL_POLICY, importSearchAttributes, type PollPolicy } from '../workflows/types';
import type { BenchWaitInput } from './polling-workflows';

const SUBMITTED_MS = 500;
const RUN_MS = 24_000;
const PROGRESS_TICK_MS = 3_000;
/** The bench's poll policy: production's shape at 1/5 of its delays (1 s floor, 12 s cap would be too slow); 4 s cap. */
const BENCH_POLICY: PollPolicy = {
  ...DEFAULT_POLL_POLICY,
  initialDelayMs: 1_000,
  minDelayMs: 1_000,
  maxDelayMs: 4_000,
  queuedDelayMs: 4_000,
  maxProgressMilestones: 0,
};
/** The waiter's fixed delay relative to our cap, as in production (120 s vs 60 s). */
const WAITER_FIXED_DELAY_S = 8;
const DATASTORE = 'bench0123456789abcdef0123456789a';
/** Each pattern runs this many times at once (different jobs, same timeline); the table shows means. */
const REPETITIONS = 3;
const EventType = temporal.api.enums.v1.EventType;

interface FakeJob {
  readonly startMs: number;
  describes: number;
}

/**
 * A HealthLake whose jobs follow the fixed timeline above (IN_PROGRESS for `runMs`), with
 * HealthLake's account quota: more than `accountTps` Describe calls in one second are throttled.
 */
function fakeHealthLake(runMs = RUN_MS, accountTps = Infinity) {
  const jobs = new Map<string, FakeJob>();
  const recent: number[] = [];
  const quota = { throttled: 0, answered: 0, maxPerSecond: 0 };
  const endOf = (job: FakeJob) => job.startMs + SUBMITTED_MS + runMs;
  const properties = (jobId: string) => {
    const job = jobs.get(jobId)!;
    job.describes++;
    const now = Date.now();
    while (recent.length > 0 && recent[0]! <= now - 1_000) recent.shift();
    recent.push(now);
    quota.maxPerSecond = Math.max(quota.maxPerSecond, recent.length);
    if (recent.length > accountTps) {
      quota.throttled++;
      throw new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    }
    quota.answered++;
    const elapsed = now - job.startMs - SUBMITTED_MS;
    const status = elapsed < 0 ? 'SUBMITTED' : now < endOf(job) ? 'IN_PROGRESS' : 'COMPLETED';
    const ticks = Math.max(0, Math.floor(Math.min(elapsed, runMs) / PROGRESS_TICK_MS));
    return {
      JobId: jobId,
      JobStatus: status,
      SubmitTime: new Date(job.startMs),
      DatastoreId: DATASTORE,
      InputDataConfig: { S3Uri: 's3://bench/in/' },
      JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://bench/out', KmsKeyId: 'alias/bench' } },
      JobProgressReport: {
        TotalNumberOfResourcesScanned: ticks * 100,
        TotalNumberOfResourcesImported: ticks * 100,
      },
      ...(status === 'COMPLETED' ? { EndTime: new Date(endOf(job)) } : {}),
    } as const;
  };
  const api: HealthLakeImportApi = {
    startFHIRImportJob: () => Promise.reject(new Error('the bench attaches to existing jobs')),
    listFHIRImportJobs: async () => ({ ImportJobPropertiesList: [] }),
    describeFHIRImportJob: async (input) => ({ ImportJobProperties: properties(input.JobId!) }),
  };
  // The waiter speaks the command style (client.send).
  const client = {
    send: async (command: { input: { JobId: string } }) => ({
      ImportJobProperties: properties(command.input.JobId),
    }),
  } as unknown as HealthLakeClient;
  return {
    api,
    client,
    quota,
    start(jobId: string): void {
      jobs.set(jobId, { startMs: Date.now(), describes: 0 });
    },
    describes: (jobId: string) => jobs.get(jobId)!.describes,
    endMs: (jobId: string) => endOf(jobs.get(jobId)!),
  };
}

interface Meter {
  attempts: number;
  heartbeats: number;
  slotMs: number;
}

/** Wraps each activity to count attempts, heartbeat calls and time in a worker slot, per workflow. */
function metered<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
  meters: Map<string, Meter>,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
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

interface PatternRow {
  readonly pattern: string;
  readonly historyEvents: number;
  readonly attempts: number;
  readonly heartbeats: number;
  readonly timers: number;
  readonly upserts: number;
  readonly actions: number;
  readonly describeCalls: number;
  readonly slotMs: number;
  readonly detectionLatencyMs: number;
}

async function main(): Promise<void> {
  // Throttled attempts are expected here by the hundred: log errors only.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const local = await createLocalTestEnv({ searchAttributes: importSearchAttributes });
  const fake = fakeHealthLake();
  const meters = new Map<string, Meter>();
  const taskQueue = `bench-polling-${Date.now()}`;
  const activities = metered(
    {
      ...createHealthLakeActivities({ healthLake: fake.api }),
      sdkWaiter: async (input: BenchWaitInput & { fixedDelaySeconds: number }): Promise<string> => {
        const result = await waitUntilFHIRImportJobCompleted(
          {
            client: fake.client,
            maxWaitTime: 3_600,
            minDelay: input.fixedDelaySeconds,
            maxDelay: input.fixedDelaySeconds,
          },
          { DatastoreId: input.datastoreId, JobId: input.jobId },
        );
        return result.state;
      },
    },
    meters,
  );
  const worker = await Worker.create({
    connection: local.env.nativeConnection,
    taskQueue,
    activities,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: require.resolve('./polling-workflows'),
      logger: quietLogger,
    }),
  });
  const client = local.env.client;
  const base = { datastoreId: DATASTORE, pollPolicy: BENCH_POLICY, apiTaskQueue: taskQueue };
  const runs: Array<[string, string, unknown]> = [
    [
      'hybrid (chosen): fhirImportWorkflow, one Describe per attempt',
      'fhirImportWorkflow',
      {
        ...base,
        inputS3Uri: 's3://bench/in/',
        outputS3Uri: 's3://bench/out',
        kmsKeyId: 'alias/bench',
        dataAccessRoleArn: 'arn:aws:iam::123456789012:role/bench',
      },
    ],
    ['heartbeating loop in one activity', 'heartbeatLoopWait', base],
    ['workflow loop: activity + timer', 'workflowLoopWait', base],
    [
      `AWS SDK waiter (fixed ${WAITER_FIXED_DELAY_S} s) in one activity`,
      'sdkWaiterWait',
      { ...base, fixedDelaySeconds: WAITER_FIXED_DELAY_S },
    ],
  ];
  const runsRepeated = Array.from({ length: REPETITIONS }, () => runs).flat();
  const samples = await worker.runUntil(
    Promise.all(
      runsRepeated.map(async ([pattern, workflowType, args], index) => {
        const jobId = `benchjob${index}`;
        const workflowId = `${taskQueue}-${index}`;
        fake.start(jobId);
        const input =
          workflowType === 'fhirImportWorkflow'
            ? { ...(args as object), existingJobId: jobId, apiTaskQueue: taskQueue }
            : { ...(args as object), jobId };
        const handle = await client.workflow.start(workflowType, { taskQueue, workflowId, args: [input] });
        await handle.result();
        const description = await handle.describe();
        const events = (await handle.fetchHistory()).events ?? [];
        const count = (type: temporal.api.enums.v1.EventType) =>
          events.filter((e) => e.eventType === type).length;
        const meter = meters.get(workflowId) ?? { attempts: 0, heartbeats: 0, slotMs: 0 };
        const timers = count(EventType.EVENT_TYPE_TIMER_STARTED);
        const upserts = count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
        return {
          pattern,
          historyEvents: events.length,
          attempts: meter.attempts,
          heartbeats: meter.heartbeats,
          timers,
          upserts,
          // Temporal Cloud: start 1 + activity attempts + heartbeats (at most, the SDK throttles) + timers + upserts.
          actions: 1 + meter.attempts + meter.heartbeats + timers + upserts,
          describeCalls: fake.describes(jobId),
          slotMs: meter.slotMs,
          detectionLatencyMs: (description.closeTime?.getTime() ?? 0) - fake.endMs(jobId),
        } satisfies PatternRow;
      }),
    ),
  );
  const budget = await budgetCheck(local);
  await local.teardown();
  const rows = runs.map(([pattern]) => {
    const mine = samples.filter((sample) => sample.pattern === pattern);
    const mean = (pick: (row: PatternRow) => number) =>
      Math.round((mine.reduce((sum, row) => sum + pick(row), 0) / mine.length) * 10) / 10;
    return {
      pattern,
      historyEvents: mean((r) => r.historyEvents),
      attempts: mean((r) => r.attempts),
      heartbeats: mean((r) => r.heartbeats),
      timers: mean((r) => r.timers),
      upserts: mean((r) => r.upserts),
      actions: mean((r) => r.actions),
      describeCalls: mean((r) => r.describeCalls),
      slotMs: mean((r) => r.slotMs),
      detectionLatencyMs: mean((r) => r.detectionLatencyMs),
      maxDetectionLatencyMs: Math.max(...mine.map((r) => r.detectionLatencyMs)),
    };
  });

  console.log(
    `\nOne import wait on a real dev server (means of ${REPETITIONS} concurrent runs per pattern): job SUBMITTED ${SUBMITTED_MS} ms, IN_PROGRESS ${RUN_MS} ms, counts move every ${PROGRESS_TICK_MS} ms.`,
  );
  console.log(
    `Poll policy: floor ${BENCH_POLICY.minDelayMs} ms, cap ${BENCH_POLICY.maxDelayMs} ms, ×${BENCH_POLICY.multiplier}, jitter ${BENCH_POLICY.jitter}.\n`,
  );
  console.table(
    rows.map((r) => ({
      pattern: r.pattern,
      'history events': r.historyEvents,
      'activity attempts': r.attempts,
      'heartbeat calls': r.heartbeats,
      timers: r.timers,
      upserts: r.upserts,
      'billed actions (≤)': r.actions,
      'Describe calls': r.describeCalls,
      'worker slot ms': r.slotMs,
      'detection latency ms (mean)': r.detectionLatencyMs,
      'detection latency ms (max)': r.maxDetectionLatencyMs,
    })),
  );
  console.log(
    `\nMeasured at the account budget: ${BUDGET_IMPORTS} imports waiting at once (jobs IN_PROGRESS ${BUDGET_RUN_MS} ms), ` +
      `HealthLake throttling above 10 Describe/s per account, poll floor ${BUDGET_POLICY.minDelayMs} ms (demand ${BUDGET_IMPORTS} calls/s).`,
  );
  console.table(budget);
  printScaleModel();
}

const BUDGET_IMPORTS = 100;
const BUDGET_RUN_MS = 10_000;
const BUDGET_ACCOUNT_TPS = 10;
/** A phase stops here; imports not done by then are counted and terminated. */
const BUDGET_TIME_LIMIT_MS = 90_000;
const BUDGET_QUEUE_RATE = 8;
const BUDGET_POLICY: PollPolicy = {
  ...BENCH_POLICY,
  initialDelayMs: 1_000,
  minDelayMs: 1_000,
  maxDelayMs: 1_000,
};

/**
 * Many imports against one account's quota, measured: the hybrid on an API task queue limited to
 * 8 activities/s by the server, vs. the heartbeating loop (whose Describes no queue can limit).
 */
async function budgetCheck(local: Awaited<ReturnType<typeof createLocalTestEnv>>) {
  const rows = [];
  for (const pattern of ['hybrid, API queue at 8/s', 'heartbeating loop'] as const) {
    const fake = fakeHealthLake(BUDGET_RUN_MS, BUDGET_ACCOUNT_TPS);
    const workflowQueue = `bench-budget-${pattern === 'heartbeating loop' ? 'loop' : 'hybrid'}-${Date.now()}`;
    const apiQueue = `${workflowQueue}-api`;
    const healthLakeActivities = createHealthLakeActivities({ healthLake: fake.api });
    const workflowWorker = await Worker.create({
      connection: local.env.nativeConnection,
      taskQueue: workflowQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./polling-workflows'),
        logger: quietLogger,
      }),
      maxConcurrentWorkflowTaskExecutions: 50,
    });
    const apiWorker = await Worker.create({
      connection: local.env.nativeConnection,
      taskQueue: apiQueue,
      activities: healthLakeActivities,
      maxConcurrentActivityTaskExecutions: BUDGET_IMPORTS + 10,
      ...(pattern === 'heartbeating loop' ? {} : { maxTaskQueueActivitiesPerSecond: BUDGET_QUEUE_RATE }),
    });
    const startedMs = Date.now();
    const ends: number[] = [];
    const handles = await Promise.all(
      Array.from({ length: BUDGET_IMPORTS }, (_, index) => {
        const jobId = `budgetjob${index}`;
        fake.start(jobId);
        const base = { datastoreId: DATASTORE, pollPolicy: BUDGET_POLICY, apiTaskQueue: apiQueue };
        const [workflowType, input] =
          pattern === 'heartbeating loop'
            ? ['heartbeatLoopWait', { ...base, jobId }]
            : [
                'fhirImportWorkflow',
                {
                  ...base,
                  existingJobId: jobId,
                  inputS3Uri: 's3://bench/in/',
                  outputS3Uri: 's3://bench/out',
                  kmsKeyId: 'alias/bench',
                  dataAccessRoleArn: 'arn:aws:iam::123456789012:role/bench',
                },
              ];
        return local.env.client.workflow.start(workflowType, {
          taskQueue: workflowQueue,
          workflowId: `${workflowQueue}-${index}`,
          args: [input],
        });
      }),
    );
    const timeLimit = new Promise<void>((resolve) => setTimeout(resolve, BUDGET_TIME_LIMIT_MS));
    const all = Promise.all(
      handles.map(async (handle, index) => {
        await handle.result();
        ends.push(Date.now() - fake.endMs(`budgetjob${index}`));
      }),
    );
    const finished = all.then(
      () => undefined,
      () => undefined, // terminated stragglers reject; they are counted below
    );
    await workflowWorker.runUntil(
      apiWorker.runUntil(
        (async () => {
          await Promise.race([finished, timeLimit]);
          // Stragglers (if any) are terminated so the bench ends; their count is the result.
          await Promise.all(
            handles.map((handle) => handle.terminate('bench time limit').catch(() => undefined)),
          );
        })(),
      ),
    );
    const row = {
      pattern,
      'max Describe calls in 1 s': fake.quota.maxPerSecond,
      'throttled calls': fake.quota.throttled,
      'answered calls': fake.quota.answered,
      [`done within ${BUDGET_TIME_LIMIT_MS / 1000} s`]: `${ends.length} of ${BUDGET_IMPORTS}`,
      'mean detection latency ms':
        ends.length === 0 ? '-' : Math.round(ends.reduce((a, b) => a + b, 0) / ends.length),
      'elapsed ms': Date.now() - startedMs,
    };
    console.table([row]);
    rows.push(row);
  }
  return rows;
}

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };

/**
 * Thousands of concurrent imports, production defaults, one AWS account (~10 Describe/List TPS).
 * Demand is what each pattern would send; only the hybrid's attempts pass the API task queue's
 * server-enforced `maxTaskQueueActivitiesPerSecond` (8/s), so only it can be held to the budget.
 */
function printScaleModel(): void {
  const budgetTps = 10;
  const queueRate = 8;
  const jobMs = 2 * 3_600_000;
  const capS = DEFAULT_POLL_POLICY.maxDelayMs / 1000;
  const floorS = DEFAULT_POLL_POLICY.minDelayMs / 1000;
  const rows = [100, 1_000, 5_000].flatMap((imports) => {
    const hybridIntervalS = Math.max(capS, imports / queueRate);
    return [
      {
        imports,
        pattern: 'AWS SDK waiter (120 s fixed)',
        'Describe TPS sent': +(imports / 120).toFixed(1),
        'over budget': imports / 120 > budgetTps ? 'yes: throttling, retried blindly' : 'no',
        'worker slots held': imports,
        'mean detection latency s': 60,
        'history events per poll': 0,
      },
      {
        imports,
        pattern: 'heartbeating loop (our backoff)',
        'Describe TPS sent': `${(imports / capS).toFixed(1)}-${(imports / floorS).toFixed(1)}`,
        'over budget':
          imports / capS > budgetTps
            ? 'yes: nothing can cap it'
            : imports / floorS > budgetTps
              ? 'while counts move'
              : 'no',
        'worker slots held': imports,
        'mean detection latency s': capS / 2,
        'history events per poll': 0,
      },
      {
        imports,
        pattern: 'workflow loop (activity + timer)',
        'Describe TPS sent': `${(imports / capS).toFixed(1)}-${(imports / floorS).toFixed(1)}`,
        'over budget':
          imports / capS > budgetTps ? 'yes' : imports / floorS > budgetTps ? 'while counts move' : 'no',
        'worker slots held': 0,
        'mean detection latency s': capS / 2,
        'history events per poll': `11 (≥ ${Math.round((jobMs / 1000 / capS) * 11)} per 2-hour import)`,
      },
      {
        imports,
        pattern: 'hybrid on a rate-limited API queue',
        'Describe TPS sent': +Math.min(queueRate, imports / capS).toFixed(1),
        'over budget': 'never (server-enforced 8/s)',
        'worker slots held': +((imports / hybridIntervalS) * 0.05).toFixed(1),
        'mean detection latency s': hybridIntervalS / 2,
        'history events per poll': 0,
      },
    ];
  });
  console.log(
    '\nModel: N concurrent 2-hour imports on one account, production defaults (5 s floor, 60 s cap).',
  );
  console.table(rows);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
