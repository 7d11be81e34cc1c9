// Activity tests with MockActivityEnvironment and a scripted HealthLake fake: the exact poll
// sequence, heartbeats only on change, resume from heartbeatDetails, error classification at the
// activity boundary, the idempotent start, and cancellation reaching the in-flight call.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AccessDeniedException,
  ThrottlingException,
  type ImportJobProperties,
} from '@aws-sdk/client-healthlake';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import {
  createHealthLakeActivities,
  importClientToken,
  jitteredAttemptDelayMs,
  type AwaitImportJobArgs,
  type HealthLakeImportApi,
} from '../activities';
import { BYTES_PER_MB, ZERO_COUNTS } from '../workflows/poll-policy';
import type { ImportJobHeartbeat } from '../workflows/types';

const quiet = { logger: new DefaultLogger('ERROR') };
/** `env.run` with the activity's own result type. */
function run<A extends unknown[], R>(
  env: MockActivityEnvironment,
  fn: (...args: A) => Promise<R>,
  ...args: A
): Promise<R> {
  return env.run<A, R, typeof fn>(fn, ...args);
}

const DATASTORE = 'ds0123456789abcdef0123456789abcd';
const T0 = Date.parse('2026-01-01T00:00:00Z');

function job(
  status: string,
  resourcesImported = 0,
  extra: Partial<ImportJobProperties> = {},
): ImportJobProperties {
  return {
    JobId: 'job-1',
    JobName: 'import-a',
    JobStatus: status as ImportJobProperties['JobStatus'],
    SubmitTime: new Date(T0),
    DatastoreId: DATASTORE,
    InputDataConfig: { S3Uri: 's3://in-bucket/a' },
    JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://out-bucket/o', KmsKeyId: 'alias/k' } },
    JobProgressReport: {
      TotalNumberOfResourcesImported: resourcesImported,
      TotalNumberOfResourcesScanned: resourcesImported,
    },
    ...extra,
  };
}

/** A HealthLake whose Describe answers come from a script (an Error is thrown). */
function scriptedHealthLake(
  describes: Array<ImportJobProperties | Error>,
  listed: ImportJobProperties[] = [],
) {
  const calls = { start: [] as unknown[], describe: 0, list: [] as unknown[] };
  const api: HealthLakeImportApi = {
    async startFHIRImportJob(input) {
      calls.start.push(input);
      return { JobId: 'job-new', JobStatus: 'SUBMITTED', DatastoreId: DATASTORE };
    },
    async describeFHIRImportJob() {
      const next = describes[Math.min(calls.describe, describes.length - 1)];
      calls.describe++;
      if (next instanceof Error) throw next;
      return { ImportJobProperties: next };
    },
    async listFHIRImportJobs(input) {
      calls.list.push(input);
      return { ImportJobPropertiesList: listed };
    },
  };
  return { api, calls };
}

const POLICY = {
  initialDelayMs: 10,
  minDelayMs: 10,
  maxDelayMs: 80,
  multiplier: 2,
  jitter: 0,
  queuedDelayMs: 50,
  attemptTimeoutMs: 1_000,
  // 0: every wait goes back to the server (the production path with production delays).
  inAttemptWaitMaxMs: 0,
  maxProgressMilestones: 0,
};

function awaitArgs(overrides: Partial<AwaitImportJobArgs> = {}): AwaitImportJobArgs {
  return {
    datastoreId: DATASTORE,
    jobId: 'job-1',
    knownStatus: 'IN_PROGRESS',
    knownMilestone: 0,
    pollPolicy: POLICY,
    firstDelayMs: 0,
    lastProgress: {
      datastoreId: DATASTORE,
      jobId: 'job-1',
      status: 'IN_PROGRESS',
      counts: ZERO_COUNTS,
      describeCalls: 3,
    },
    ...overrides,
  };
}

async function runAttempt(
  act: ReturnType<typeof createHealthLakeActivities>,
  attempt: number,
  heartbeatDetails: ImportJobHeartbeat | undefined,
  args: AwaitImportJobArgs,
) {
  const env = new MockActivityEnvironment({ attempt, heartbeatDetails }, quiet);
  const heartbeats: ImportJobHeartbeat[] = [];
  env.on('heartbeat', (d: ImportJobHeartbeat) => heartbeats.push(d));
  try {
    return { snapshot: await run(env, act.awaitImportJobChange, args), heartbeats };
  } catch (err) {
    return { failure: err as ApplicationFailure, heartbeats };
  }
}

describe('awaitImportJobChange (one Describe per attempt)', () => {
  it('a wait from an older workflow: the first attempt describes after its first delay; changes restart the backoff', async () => {
    const { api, calls } = scriptedHealthLake([
      job('IN_PROGRESS', 5),
      job('IN_PROGRESS', 5),
      job('IN_PROGRESS', 5),
      job('IN_PROGRESS', 9),
      job('COMPLETED', 12),
    ]);
    let now = T0;
    const act = createHealthLakeActivities({ healthLake: api, clock: () => (now += 1_000), random: () => 0 });
    // No progressDueAtMs: scheduled by a workflow from before the time-based progress returns.
    const args = awaitArgs({ firstDelayMs: 10 });
    let details: ImportJobHeartbeat | undefined;
    const delays: unknown[] = [];
    const heartbeatCounts: number[] = [];
    const describesPerAttempt: number[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const before = calls.describe;
      const outcome = await runAttempt(act, attempt, details, args);
      assert.ok(outcome.failure instanceof ApplicationFailure, `attempt ${attempt}`);
      assert.equal(outcome.failure.type, 'ImportJobStillRunning');
      assert.equal(outcome.failure.category, 'BENIGN');
      delays.push(outcome.failure.nextRetryDelay);
      heartbeatCounts.push(outcome.heartbeats.length);
      describesPerAttempt.push(calls.describe - before);
      details = outcome.heartbeats.at(-1) ?? details;
    }
    // Every attempt makes its Describe: the first sleeps firstDelayMs (10 ms, within the attempt)
    // instead of handing it back to the server without a HealthLake call (fails before the fix:
    // attempt 1 made 0 Describes). 1: change (5 imported) → floor; 2, 3: no change → ×2, ×4;
    // 4: change (9) → floor again.
    assert.deepEqual(describesPerAttempt, [1, 1, 1, 1]);
    assert.deepEqual(delays, [10, 20, 40, 10]);
    // The first attempt heartbeats the starting point and its change; then only changes.
    assert.deepEqual(heartbeatCounts, [2, 0, 0, 1]);
    assert.equal(details?.progress.counts.resourcesImported, 9);
    assert.equal(details?.describeCallsAtChange, 7);
    assert.equal(details?.progress.describeCalls, 7);
    const done = await runAttempt(act, 5, details, args);
    assert.equal(done.snapshot?.progress.status, 'COMPLETED');
    assert.equal(done.snapshot?.progress.counts.resourcesImported, 12);
    // 3 Describe calls before this activity + 5 here.
    assert.equal(done.snapshot?.progress.describeCalls, 8);
    assert.equal(calls.describe, 5);
  });

  it('count changes do not restart the backoff; a poll that saw one waits reportRefreshMs', async () => {
    const { api, calls } = scriptedHealthLake([
      job('IN_PROGRESS', 5),
      job('IN_PROGRESS', 5),
      job('IN_PROGRESS', 9),
      job('IN_PROGRESS', 9),
      job('IN_PROGRESS', 12),
      job('COMPLETED', 15),
    ]);
    const act = createHealthLakeActivities({ healthLake: api, clock: () => T0, random: () => 0 });
    const args = awaitArgs({ progressDueAtMs: null, pollPolicy: { ...POLICY, reportRefreshMs: 30 } });
    let details: ImportJobHeartbeat | undefined;
    const delays: unknown[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const outcome = await runAttempt(act, attempt, details, args);
      assert.equal(outcome.failure?.type, 'ImportJobStillRunning', `attempt ${attempt}`);
      delays.push(outcome.failure?.nextRetryDelay);
      details = outcome.heartbeats.at(-1) ?? details;
    }
    // n polls since the status change (the wait's first delay was n = 0): 1: change → max(10·2,
    // refresh 30); 2: 10·4 = 40; 3: change, 80 (cap, ≥ 30); 4, 5: 80. Before the fix:
    // [10, 20, 10, 20, 10] (every change restarted at the floor).
    assert.deepEqual(delays, [30, 40, 80, 80, 80]);
    assert.equal(details?.describeCallsAtChange, 3);
    const done = await runAttempt(act, 6, details, args);
    assert.equal(done.snapshot?.progress.status, 'COMPLETED');
    assert.equal(done.snapshot?.progress.describeCalls, 9);
    assert.equal(calls.describe, 6);
  });

  it('returns fresh counts to the workflow once progressDueAtMs has come (IN_PROGRESS only), never with null', async () => {
    let now = T0;
    const { api } = scriptedHealthLake([job('IN_PROGRESS', 5)]);
    const act = createHealthLakeActivities({ healthLake: api, clock: () => now, random: () => 0 });
    const due = awaitArgs({ progressDueAtMs: T0 + 15 });
    const early = await runAttempt(act, 1, undefined, due);
    // Not due yet: the next poll is at the due time (15 ms), not the 10 ms floor's backoff... nor before the floor.
    assert.equal(early.failure?.nextRetryDelay, 15);
    now = T0 + 15;
    const back = await runAttempt(act, 2, early.heartbeats.at(-1), due);
    assert.equal(back.snapshot?.progress.counts.resourcesImported, 5);
    assert.equal(back.snapshot?.progress.describeCalls, 5);
    // null: the workflow has made its returns; the wait goes on however late it is.
    now = T0 + 1_000_000;
    const never = await runAttempt(act, 1, undefined, awaitArgs({ progressDueAtMs: null }));
    assert.equal(never.failure?.type, 'ImportJobStillRunning');
    // QUEUED jobs have no counts to show: no progress return.
    const queued = scriptedHealthLake([job('QUEUED')]);
    const act2 = createHealthLakeActivities({ healthLake: queued.api, clock: () => now, random: () => 0 });
    const q = await runAttempt(act2, 1, undefined, awaitArgs({ knownStatus: 'QUEUED', progressDueAtMs: T0 }));
    assert.equal(q.failure?.nextRetryDelay, 50);
  });

  it('QUEUED polls at queuedDelayMs and returns when it starts', async () => {
    const { api } = scriptedHealthLake([job('QUEUED'), job('IN_PROGRESS', 1)]);
    const act = createHealthLakeActivities({ healthLake: api, random: () => 0 });
    const queued = awaitArgs({ knownStatus: 'QUEUED' });
    const first = await runAttempt(act, 1, undefined, queued);
    assert.equal(first.failure?.nextRetryDelay, 50);
    const second = await runAttempt(act, 2, first.heartbeats.at(-1), queued);
    assert.equal(second.snapshot?.progress.status, 'IN_PROGRESS');
  });

  it('AccessDenied fails non-retryable under its AWS name; throttling retries after the poll delay', async () => {
    const denied = scriptedHealthLake([new AccessDeniedException({ message: 'not allowed', $metadata: {} })]);
    const act = createHealthLakeActivities({ healthLake: denied.api, random: () => 0 });
    const failure = (await runAttempt(act, 1, undefined, awaitArgs())).failure;
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'AccessDeniedException');
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.message, 'DescribeFHIRImportJob failed with AccessDeniedException: not allowed');

    const throttled = scriptedHealthLake([
      new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }),
    ]);
    const act2 = createHealthLakeActivities({ healthLake: throttled.api, random: () => 0 });
    const retry = (await runAttempt(act2, 1, undefined, awaitArgs())).failure;
    assert.ok(retry instanceof ApplicationFailure);
    assert.equal(retry.type, 'ThrottlingException');
    assert.equal(retry.nonRetryable, false);
    assert.equal(retry.nextRetryDelay, 20);
  });

  it('returns at a new progress milestone when a manifest gives the total', async () => {
    const mb = BYTES_PER_MB;
    const { api } = scriptedHealthLake([
      job('IN_PROGRESS', 1, { JobProgressReport: { TotalSizeOfScannedFilesInMB: 3 } }),
      job('IN_PROGRESS', 1, { JobProgressReport: { TotalSizeOfScannedFilesInMB: 6 } }),
    ]);
    const act = createHealthLakeActivities({ healthLake: api, random: () => 0 });
    const args = awaitArgs({ totalBytes: 10 * mb, pollPolicy: { ...POLICY, maxProgressMilestones: 1 } });
    const first = await runAttempt(act, 1, undefined, args);
    assert.equal(first.failure?.type, 'ImportJobStillRunning');
    assert.equal(first.heartbeats.at(-1)?.progress.percent, 30);
    const second = await runAttempt(act, 2, first.heartbeats.at(-1), args);
    assert.equal(second.snapshot?.progress.percent, 60);
  });
});

describe('awaitImportJobChange (short waits inside the attempt)', () => {
  it('polls in-process below inAttemptWaitMaxMs and returns on the change', async () => {
    const { api, calls } = scriptedHealthLake([
      job('IN_PROGRESS', 5),
      job('IN_PROGRESS', 5),
      job('COMPLETED', 7),
    ]);
    const act = createHealthLakeActivities({ healthLake: api, random: () => 0 });
    const outcome = await runAttempt(
      act,
      1,
      undefined,
      awaitArgs({ pollPolicy: { ...POLICY, inAttemptWaitMaxMs: 1_000 } }),
    );
    assert.equal(outcome.snapshot?.progress.status, 'COMPLETED');
    assert.equal(outcome.snapshot?.progress.describeCalls, 6);
    assert.equal(calls.describe, 3);
    // The starting point, then the change to 5 imported; the unchanged poll sends nothing.
    assert.deepEqual(
      outcome.heartbeats.map((h) => h.progress.counts.resourcesImported),
      [0, 5],
    );
  });
});

describe('awaitImportJobChange at the deadline', () => {
  it('hands the job back after one Describe once the deadline has passed, instead of a 0 ms loop', async () => {
    const { api, calls } = scriptedHealthLake([job('IN_PROGRESS', 5)]);
    let now = T0;
    const act = createHealthLakeActivities({ healthLake: api, clock: () => (now += 1), random: () => 0 });
    // Short waits would sleep inside the attempt: a 0 ms wait there is a tight Describe loop.
    const args = awaitArgs({
      pollPolicy: { ...POLICY, inAttemptWaitMaxMs: 1_000 },
      lastProgress: {
        ...awaitArgs().lastProgress,
        counts: { ...ZERO_COUNTS, resourcesImported: 5, resourcesScanned: 5 },
      },
      deadlineMs: T0,
    });
    const outcome = await runAttempt(act, 1, undefined, args);
    assert.equal(outcome.failure, undefined);
    assert.equal(outcome.snapshot?.progress.status, 'IN_PROGRESS');
    assert.equal(outcome.snapshot?.progress.describeCalls, 4);
    assert.equal(calls.describe, 1);
  });

  it('waits at least the floor just before the deadline (never a shorter wait)', async () => {
    const { api, calls } = scriptedHealthLake([job('IN_PROGRESS', 5)]);
    const act = createHealthLakeActivities({ healthLake: api, clock: () => T0, random: () => 0 });
    const unchanged = {
      ...awaitArgs().lastProgress,
      counts: { ...ZERO_COUNTS, resourcesImported: 5, resourcesScanned: 5 },
    };
    const outcome = await runAttempt(
      act,
      1,
      undefined,
      awaitArgs({ lastProgress: unchanged, deadlineMs: T0 + 3 }),
    );
    assert.equal(outcome.failure?.type, 'ImportJobStillRunning');
    // 1 poll without change: 10 ms · 2 = 20, ends at the deadline 3 ms away but not below the 10 ms floor.
    assert.equal(outcome.failure?.nextRetryDelay, 10);
    assert.equal(calls.describe, 1);
  });
});

describe('startImportJob', () => {
  const startArgs = {
    datastoreId: DATASTORE,
    inputS3Uri: 's3://in-bucket/a',
    outputS3Uri: 's3://out-bucket/o',
    kmsKeyId: 'alias/k',
    dataAccessRoleArn: 'arn:aws:iam::123456789012:role/r',
    jobName: 'import-a',
    identity: 'default/wf-1/run-1',
    notBefore: '2026-01-01T00:00:00.000Z',
  };
  /** The one lookup: by exact name, every status, no time window. */
  const lookup = {
    DatastoreId: DATASTORE,
    JobName: 'import-a',
    JobStatus: undefined,
    SubmittedBefore: undefined,
    SubmittedAfter: undefined,
    MaxResults: 100,
    NextToken: undefined,
  };
  const throttled = () => new ThrottlingException({ message: 'Rate exceeded', $metadata: {} });

  /** A HealthLake whose List and Start answers come from scripts (an Error is thrown). */
  function scriptedStart(lists: Array<ImportJobProperties[] | Error>, starts: Array<Error | 'ok'> = ['ok']) {
    const calls = { list: [] as unknown[], start: [] as Array<{ ClientToken?: string }> };
    const api: HealthLakeImportApi = {
      async listFHIRImportJobs(input) {
        const next = lists[Math.min(calls.list.length, lists.length - 1)]!;
        calls.list.push(input);
        if (next instanceof Error) throw next;
        return { ImportJobPropertiesList: next };
      },
      async startFHIRImportJob(input) {
        const next = starts[Math.min(calls.start.length, starts.length - 1)]!;
        calls.start.push(input);
        if (next instanceof Error) throw next;
        return { JobId: 'job-new', JobStatus: 'SUBMITTED', DatastoreId: DATASTORE };
      },
      describeFHIRImportJob: () => Promise.reject(new Error('unused')),
    };
    const sleeps: number[] = [];
    const act = createHealthLakeActivities({
      healthLake: api,
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    return { act, calls, sleeps };
  }
  const attemptEnv = (attempt = 1) =>
    new MockActivityEnvironment({ attempt, startToCloseTimeoutMs: 30_000 }, quiet);

  it('a fresh import costs exactly 1 List (by name, every status) and 1 Start with the identity token', async () => {
    // Same name, other S3 input: not this import.
    const { act, calls, sleeps } = scriptedStart([
      [job('IN_PROGRESS', 0, { InputDataConfig: { S3Uri: 's3://in-bucket/other' } })],
    ]);
    const started = await run(attemptEnv(), act.startImportJob, startArgs);
    assert.deepEqual(started, {
      jobId: 'job-new',
      status: 'SUBMITTED',
      how: 'started',
      clientToken: importClientToken('default/wf-1/run-1'),
    });
    assert.match(started.clientToken, /^[0-9a-f]{40}$/);
    assert.notEqual(importClientToken('default/wf-1/run-2'), started.clientToken);
    assert.deepEqual(calls.list, [lookup]);
    assert.equal(calls.start.length, 1);
    assert.equal(calls.start[0]?.ClientToken, started.clientToken);
    assert.deepEqual(sleeps, []);
  });

  it('reattaches to the job an earlier crashed attempt submitted, without starting another', async () => {
    const { act, calls } = scriptedStart([[job('IN_PROGRESS')]]);
    const found = await run(attemptEnv(2), act.startImportJob, startArgs);
    assert.equal(found.jobId, 'job-1');
    assert.equal(found.how, 'found');
    assert.equal(calls.list.length, 1);
    assert.equal(calls.start.length, 0);
  });

  it('keeps a running job of any age and an ended one submitted since the start (minus 60 s skew), nothing else', async () => {
    const old = new Date('2025-12-31T23:58:59.999Z'); // 60.001 s before the workflow start
    const skewed = new Date('2025-12-31T23:59:00.000Z'); // exactly 60 s before
    const cases: Array<[string, ImportJobProperties, 'found' | 'started']> = [
      [
        'running, submitted a day earlier',
        job('QUEUED', 0, { SubmitTime: new Date(T0 - 86_400_000) }),
        'found',
      ],
      ['ended before the window', job('COMPLETED', 0, { SubmitTime: old }), 'started'],
      ['ended inside the skew window', job('FAILED', 0, { SubmitTime: skewed }), 'found'],
      ['running under another name', job('IN_PROGRESS', 0, { JobName: 'import-a-2' }), 'started'],
      [
        'running with another output',
        job('IN_PROGRESS', 0, {
          JobOutputDataConfig: { S3Configuration: { S3Uri: 's3://out-bucket/x', KmsKeyId: 'alias/k' } },
        }),
        'started',
      ],
    ];
    for (const [label, listed, how] of cases) {
      const { act, calls } = scriptedStart([[listed]]);
      const outcome = await run(attemptEnv(), act.startImportJob, startArgs);
      assert.equal(outcome.how, how, label);
      assert.equal(calls.list.length, 1, label);
      assert.equal(calls.start.length, how === 'started' ? 1 : 0, label);
    }
  });

  it('a throttled List is retried inside the attempt with full jitter: 2 List + 1 Start, one attempt', async () => {
    const { act, calls, sleeps } = scriptedStart([throttled(), []]);
    const started = await run(attemptEnv(), act.startImportJob, startArgs);
    assert.equal(started.how, 'started');
    assert.deepEqual(calls.list, [lookup, lookup]);
    assert.equal(calls.start.length, 1);
    // random() = 0.5 of the first window (250 ms).
    assert.deepEqual(sleeps, [125]);
  });

  it('a throttled Start is retried with the same ClientToken; past 3 retries the attempt fails with a jittered delay', async () => {
    const once = scriptedStart([[]], [throttled(), 'ok']);
    const started = await run(attemptEnv(), once.act.startImportJob, startArgs);
    assert.equal(started.how, 'started');
    assert.deepEqual(
      once.calls.start.map((c) => c.ClientToken),
      [started.clientToken, started.clientToken],
    );
    assert.deepEqual(once.sleeps, [125]);

    const always = scriptedStart([throttled()]);
    const failure = await run(attemptEnv(3), always.act.startImportJob, startArgs).catch(
      (err: unknown) => err,
    );
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'ThrottlingException');
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.message, 'ListFHIRImportJobs failed with ThrottlingException: Rate exceeded');
    // Windows 250, 500, 1000 ms × 0.5; then attempt 3's window 4 s: 2 s + 0.5 × 2 s.
    assert.deepEqual(always.sleeps, [125, 250, 500]);
    assert.equal(always.calls.list.length, 4);
    assert.equal(always.calls.start.length, 0);
    assert.equal(failure.nextRetryDelay, 3_000);
  });

  it("a Start refused by this worker's call budget waits the slot it names, in the attempt: 1 List, not 1 per attempt", async () => {
    // What createCallBudget rejects with when its queue is booked past maxWaitMs (nothing reached AWS).
    const refused = () =>
      Object.assign(new Error('HealthLake call budget of this worker is booked for the next 700 ms'), {
        name: 'ThrottlingException',
        retryAfterMs: 700,
      });
    const { act, calls, sleeps } = scriptedStart([[]], [refused(), refused(), refused(), refused(), 'ok']);
    const started = await run(attemptEnv(), act.startImportJob, startArgs);
    assert.equal(started.how, 'started');
    assert.equal(calls.list.length, 1);
    assert.equal(calls.start.length, 5);
    // Four refusals, each the named 700 ms + 0.5 of the first jitter window (250 ms): past AWS's 3
    // retries, which the old loop counted them as, ending the attempt (and listing again).
    assert.deepEqual(sleeps, [825, 825, 825, 825]);

    // Within the attempt's time budget only (half of startToClose 30 s), on the activity's clock.
    let nowMs = T0;
    let starts = 0;
    const budgetSleeps: number[] = [];
    const bounded = createHealthLakeActivities({
      healthLake: {
        listFHIRImportJobs: async () => ({ ImportJobPropertiesList: [] }),
        startFHIRImportJob: async () => {
          starts++;
          throw refused();
        },
        describeFHIRImportJob: () => Promise.reject(new Error('unused')),
      },
      random: () => 0.5,
      clock: () => nowMs,
      sleep: async (ms) => {
        budgetSleeps.push(ms);
        nowMs += ms;
      },
    });
    const failure = await run(attemptEnv(), bounded.startImportJob, startArgs).catch((err: unknown) => err);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'ThrottlingException');
    // 18 waits of 825 ms fit in 15 s (14,850 ms); the 19th refusal ends the attempt.
    assert.equal(starts, 19);
    assert.deepEqual(budgetSleeps, Array<number>(18).fill(825));
  });

  it('a budget refusal naming a long wait ends the attempt with that delay (no slot held); the next attempt skips the List', async () => {
    const refused = (retryAfterMs: number) =>
      Object.assign(
        new Error(`HealthLake call budget of this worker is booked for the next ${retryAfterMs} ms`),
        {
          name: 'ThrottlingException',
          retryAfterMs,
        },
      );
    const first = scriptedStart([[]], [refused(5_000)]);
    const env = attemptEnv();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const failure = await run(env, first.act.startImportJob, startArgs).catch((err: unknown) => err);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'ThrottlingException');
    assert.equal(failure.nonRetryable, false);
    // The named 5 s + 0.5 of the first jitter window; slept by the server, not in the slot.
    assert.equal(failure.nextRetryDelay, 5_125);
    assert.deepEqual(first.sleeps, []);
    assert.deepEqual([first.calls.list.length, first.calls.start.length], [1, 1]);
    assert.deepEqual(beats, [{ startListedNothingFor: startArgs.jobName }]);

    // Attempt 2 resumes after the List: one Start with the same ClientToken, no List.
    const second = scriptedStart([[]]);
    const resumed = await run(
      new MockActivityEnvironment(
        { attempt: 2, startToCloseTimeoutMs: 30_000, heartbeatDetails: beats[0] },
        quiet,
      ),
      second.act.startImportJob,
      startArgs,
    );
    assert.equal(resumed.how, 'started');
    assert.deepEqual([second.calls.list.length, second.calls.start.length], [0, 1]);
    assert.equal(second.calls.start[0]!.ClientToken, resumed.clientToken);
    // A heartbeat of another job name (another import's attempt) does not skip it.
    const other = scriptedStart([[]]);
    await run(
      new MockActivityEnvironment(
        { attempt: 2, startToCloseTimeoutMs: 30_000, heartbeatDetails: { startListedNothingFor: 'other' } },
        quiet,
      ),
      other.act.startImportJob,
      startArgs,
    );
    assert.equal(other.calls.list.length, 1);
  });

  it('a non-retryable error is not retried inside the attempt', async () => {
    const { act, calls, sleeps } = scriptedStart([
      new AccessDeniedException({ message: 'not allowed', $metadata: {} }),
    ]);
    const failure = await run(attemptEnv(), act.startImportJob, startArgs).catch((err: unknown) => err);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'AccessDeniedException');
    assert.equal(failure.nonRetryable, true);
    assert.equal(calls.list.length, 1);
    assert.deepEqual(sleeps, []);
  });

  it('jittered attempt delays: half the exponential window plus a random half, capped at 30 s', () => {
    assert.deepEqual(
      [1, 2, 3, 6, 20].map((attempt) => jitteredAttemptDelayMs(attempt, () => 0)),
      [500, 1_000, 2_000, 15_000, 15_000],
    );
    assert.deepEqual(
      [1, 2, 6].map((attempt) => jitteredAttemptDelayMs(attempt, () => 0.999999)),
      [1_000, 2_000, 30_000],
    );
  });
});

describe('cancellation', () => {
  it('aborts the in-flight Describe', async () => {
    let aborted = false;
    const env = new MockActivityEnvironment({}, quiet);
    const api: HealthLakeImportApi = {
      startFHIRImportJob: () => Promise.reject(new Error('unused')),
      listFHIRImportJobs: () => Promise.reject(new Error('unused')),
      describeFHIRImportJob: (_input, options) =>
        new Promise((_resolve, reject) => {
          const signal = options?.abortSignal;
          const abort = () => {
            aborted = true;
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
          };
          if (signal?.aborted) return abort();
          signal?.addEventListener('abort', abort);
          // Cancel only once the call is in flight and listening: no timer can race it.
          env.cancel();
        }),
    };
    const act = createHealthLakeActivities({ healthLake: api });
    await assert.rejects(env.run(act.awaitImportJobChange, awaitArgs()), CancelledFailure);
    assert.equal(aborted, true);
  });

  it('ends the heartbeating loop on the chosen heartbeat', async () => {
    const { api, calls } = scriptedHealthLake([
      job('IN_PROGRESS', 1),
      job('IN_PROGRESS', 2),
      job('IN_PROGRESS', 3),
    ]);
    const act = createHealthLakeActivities({ healthLake: api, random: () => 0 });
    const env = new MockActivityEnvironment({}, quiet);
    const seen: number[] = [];
    env.on('heartbeat', (d: ImportJobHeartbeat) => {
      seen.push(d.progress.counts.resourcesImported);
      if (seen.length === 2) env.cancel();
    });
    await assert.rejects(env.run(act.watchImportJob, awaitArgs()), CancelledFailure);
    assert.deepEqual(seen, [1, 2]);
    assert.equal(calls.describe, 2);
  });
});

describe('listImportJobs', () => {
  it('passes every filter and stops after maxPages, returning the next token', async () => {
    const requests: unknown[] = [];
    const api: HealthLakeImportApi = {
      startFHIRImportJob: () => Promise.reject(new Error('unused')),
      describeFHIRImportJob: () => Promise.reject(new Error('unused')),
      listFHIRImportJobs: async (input) => {
        requests.push(input);
        const page = Number(input.NextToken ?? '0');
        return { ImportJobPropertiesList: [job('COMPLETED', page)], NextToken: String(page + 1) };
      },
    };
    const act = createHealthLakeActivities({ healthLake: api });
    const listed = await act.listImportJobs({
      datastoreId: DATASTORE,
      jobName: 'import-a',
      jobStatus: 'COMPLETED',
      submittedAfter: '2026-01-01T00:00:00.000Z',
      submittedBefore: '2026-01-02T00:00:00.000Z',
      maxResults: 2,
      maxPages: 3,
    });
    assert.equal(listed.listCalls, 3);
    assert.equal(listed.nextToken, '3');
    assert.deepEqual(
      listed.jobs.map((j) => j.progress.counts.resourcesImported),
      [0, 1, 2],
    );
    assert.deepEqual(requests[1], {
      DatastoreId: DATASTORE,
      JobName: 'import-a',
      JobStatus: 'COMPLETED',
      SubmittedBefore: new Date('2026-01-02T00:00:00.000Z'),
      SubmittedAfter: new Date('2026-01-01T00:00:00.000Z'),
      MaxResults: 2,
      NextToken: '1',
    });
  });

  it('stops at the last page (an empty NextToken ends the listing, as in the SDK paginator)', async () => {
    let calls = 0;
    const api: HealthLakeImportApi = {
      startFHIRImportJob: () => Promise.reject(new Error('unused')),
      describeFHIRImportJob: () => Promise.reject(new Error('unused')),
      listFHIRImportJobs: async () => {
        calls++;
        return { ImportJobPropertiesList: [job('QUEUED')], NextToken: calls === 1 ? 'more' : '' };
      },
    };
    const listed = await createHealthLakeActivities({ healthLake: api }).listImportJobs({
      datastoreId: DATASTORE,
    });
    assert.equal(listed.listCalls, 2);
    assert.equal(listed.nextToken, undefined);
    assert.equal(listed.jobs.length, 2);
  });
});
