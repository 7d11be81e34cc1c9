// HealthLake import activities: start a job exactly once, describe and list jobs, and wait for a
// job to change with one Describe per activity attempt (see activities/README.md for why).
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ImportJobProperties, JobProgressReport } from '@aws-sdk/client-healthlake';
import {
  countsChanged,
  estimateCompletion,
  etaDue,
  nextPoll,
  nextPollDelayMs,
  progressMilestone,
  ZERO_COUNTS,
} from '../workflows/poll-policy';
import {
  ImportFailureType,
  type FhirImportProgress,
  type ImportJobCounts,
  type ImportJobHeartbeat,
  type ImportJobStatus,
  type PollPolicy,
  type ValidationLevel,
} from '../workflows/types';
import { awsErrorToFailure, classifyAwsError } from './aws-errors';
import { callBudgetRetryAfterMs } from './call-budget';
import { CallLane } from './call-budget';
import type { HealthLakeImportApi } from './healthlake-api';
import { runHybridWait, stillRunningFailure, stillRunningMessage } from './job-wait';
import type { ImportJobOwner, ImportListCoalescer } from './list-coalescer';
import { healthLakeJobEventSignal } from '../workflows/job-events';

/** Dependencies of {@link createHealthLakeActivities}. */
export interface HealthLakeActivityDeps {
  /** The real client (`new HealthLake({...})`), the emulator's, or a fake. */
  readonly healthLake: HealthLakeImportApi;
  /** Epoch ms. @default Date.now */
  readonly clock?: () => number;
  /** Uniform [0, 1), for poll and retry jitter. @default Math.random */
  readonly random?: () => number;
  /**
   * Waits `ms` between in-attempt retries of a throttled call; rejects when the activity is
   * cancelled. @default `Context.current().sleep` (a timer outside an activity)
   */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Answers the wait's polls with one shared ListFHIRImportJobs per data store instead of one
   * Describe per job (activities/list-coalescer.ts). @default none (one Describe per poll)
   */
  readonly listCoalescer?: ImportListCoalescer;
}

/** Arguments of `startImportJob`. */
export interface StartImportJobArgs {
  readonly datastoreId: string;
  readonly inputS3Uri: string;
  readonly outputS3Uri: string;
  readonly kmsKeyId: string;
  readonly dataAccessRoleArn: string;
  /**
   * The exact HealthLake JobName, tagged with the import's identity by the workflow
   * (`importJobName`); only a job with exactly this name can be reattached.
   */
  readonly jobName: string;
  readonly validationLevel?: ValidationLevel;
  /** Stable identity of this import, `<namespace>/<workflowId>/<firstExecutionRunId>`: the ClientToken's seed. */
  readonly identity: string;
  /** ISO instant the workflow started: a job submitted before it cannot be this import's. */
  readonly notBefore: string;
}

/**
 * How `startImportJob` retries a throttled (or otherwise transient) List or Start call inside its
 * attempt: full jitter, `random() × min(capMs, baseMs × 2^retry)`, at most `retries` times and never
 * past half the attempt's start-to-close timeout. Then the attempt fails with a jittered
 * `nextRetryDelay` ({@link jitteredAttemptDelayMs}).
 */
export const START_CALL_RETRY = { retries: 3, baseMs: 250, capMs: 4_000 } as const;

/**
 * The longest wait for a slot of this worker's call budget that the start path sleeps inside its
 * attempt; a refusal naming a longer one ends the attempt with that retry delay (no slot held).
 */
export const START_BUDGET_IN_ATTEMPT_WAIT_MAX_MS = 2_000;

/** Delay before the next attempt of a start/describe/list activity after a transient error. */
export const ATTEMPT_RETRY = { baseMs: 1_000, capMs: 30_000 } as const;

/**
 * The retry delay of activity attempt `attempt` (1-based) after a transient error: the exponential
 * window `min(capMs, baseMs × 2^(attempt-1))`, of which a random half is removed ("equal jitter"),
 * so attempts throttled together do not come back together. Temporal's retry policy has no jitter.
 */
export function jitteredAttemptDelayMs(attempt: number, random: () => number): number {
  const window = Math.min(ATTEMPT_RETRY.capMs, ATTEMPT_RETRY.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(window / 2 + (window / 2) * Math.min(Math.max(random(), 0), 1));
}

/** What `startImportJob` did. */
export interface StartedImportJob {
  readonly jobId: string;
  readonly status: string;
  /**
   * `found` when a job with this exact name and these S3 locations was already submitted: by a
   * crashed earlier attempt, or by an earlier run of the same import that stopped waiting while the
   * job still ran.
   */
  readonly how: 'started' | 'found';
  readonly clientToken: string;
}

/** One job as the workflow needs it. Counts, ids and times only. */
export interface ImportJobSnapshot {
  readonly progress: FhirImportProgress;
  readonly jobName?: string;
  readonly message?: string;
  /** ISO instants. */
  readonly submitTime: string;
  readonly endTime?: string;
  readonly inputS3Uri: string;
  readonly outputS3Uri?: string;
  /** ISO instant the job was first seen IN_PROGRESS. */
  readonly inProgressSince?: string;
}

/** Arguments of `describeImportJob`. */
export interface DescribeImportJobArgs {
  readonly datastoreId: string;
  readonly jobId: string;
}

/** Arguments of `listImportJobs`: every HealthLake filter, plus a page bound. */
export interface ListImportJobsArgs {
  readonly datastoreId: string;
  readonly jobName?: string;
  readonly jobStatus?: ImportJobStatus;
  /** ISO instants. */
  readonly submittedBefore?: string;
  readonly submittedAfter?: string;
  /** Page size, 1-500. @default 100 */
  readonly maxResults?: number;
  /** Pages read at most (each is one List call against the account's budget). @default 5 */
  readonly maxPages?: number;
  /** Continue from an earlier call's `nextToken`. */
  readonly nextToken?: string;
}

export interface ListedImportJobs {
  readonly jobs: readonly ImportJobSnapshot[];
  /** Set when `maxPages` stopped the listing before the end. */
  readonly nextToken?: string;
  readonly listCalls: number;
}

/** Arguments of `awaitImportJobChange` (and the heartbeating `watchImportJob`). */
export interface AwaitImportJobArgs {
  readonly datastoreId: string;
  readonly jobId: string;
  /** The status the workflow last saw; any other status returns at once. */
  readonly knownStatus: ImportJobStatus | 'NOT_STARTED';
  /**
   * The progress milestone the workflow last saw (see `progressMilestone`). Used only when
   * `progressDueAtMs` is absent (a wait scheduled by a workflow from before the time-based returns).
   */
  readonly knownMilestone: number;
  /**
   * Epoch ms at which an IN_PROGRESS wait returns fresh counts to the workflow although the status
   * has not changed (`progressDueAtMs` in workflows/poll-policy.ts); `null`: no more such returns.
   * Absent: the percent milestones of older workflows.
   */
  readonly progressDueAtMs?: number | null;
  /**
   * `lastProgress.describeCalls` when the status last changed, so a wait scheduled after a progress
   * return keeps backing off instead of restarting at the floor. @default lastProgress.describeCalls
   */
  readonly describeCallsAtChange?: number;
  readonly pollPolicy: PollPolicy;
  /** Wait before this activity's first Describe, in ms (0 = describe at once). */
  readonly firstDelayMs: number;
  /** The workflow's last progress: counts to compare with and Describe calls so far. */
  readonly lastProgress: FhirImportProgress;
  /** Bytes landed (from the manifest), for percent and ETA. */
  readonly totalBytes?: number;
  /** Epoch ms of the workflow's deadline: once it has passed, the wait hands back after its Describe. */
  readonly deadlineMs?: number;
  readonly inProgressSince?: string;
}

/** Default page size and page bound for List calls. */
const DEFAULT_LIST_PAGE_SIZE = 100;
const DEFAULT_LIST_MAX_PAGES = 5;
/** Statuses of a job that has not ended: such a job is reattached whenever it was submitted. */
const RUNNING_IMPORT_STATUSES: ReadonlySet<string> = new Set<ImportJobStatus>([
  'IN_PROGRESS',
  'QUEUED',
  'SUBMITTED',
]);
/** How far before the workflow start a found job may have been submitted (clock skew), in ms. */
const SUBMIT_CLOCK_SKEW_MS = 60_000;

/**
 * The ClientToken for an import: a hash of its identity, so every retry and replay of the start
 * sends the same token (the SDK would fill a fresh random one). 40 hex chars, within HealthLake's
 * 1-64 `[a-zA-Z0-9-]`.
 */
export function importClientToken(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 40);
}

function toIso(date: Date | undefined): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

/** HealthLake's report in our names (missing counts are 0). */
export function countsFromReport(report: JobProgressReport | undefined): ImportJobCounts {
  if (!report) return ZERO_COUNTS;
  return {
    scannedFiles: report.TotalNumberOfScannedFiles ?? 0,
    scannedMb: report.TotalSizeOfScannedFilesInMB ?? 0,
    importedFiles: report.TotalNumberOfImportedFiles ?? 0,
    resourcesScanned: report.TotalNumberOfResourcesScanned ?? 0,
    resourcesImported: report.TotalNumberOfResourcesImported ?? 0,
    resourcesWithCustomerError: report.TotalNumberOfResourcesWithCustomerError ?? 0,
    filesReadWithCustomerError: report.TotalNumberOfFilesReadWithCustomerError ?? 0,
    throughput: report.Throughput ?? 0,
  };
}

/** The outcome of one Describe inside a wait. */
type PollStep =
  | { readonly kind: 'return'; readonly snapshot: ImportJobSnapshot }
  | {
      readonly kind: 'wait';
      readonly delayMs: number;
      readonly status: string;
      readonly state: ImportJobHeartbeat;
      /** The status or a count moved on this Describe. */
      readonly changed: boolean;
    }
  | {
      readonly kind: 'error';
      readonly failure: Error;
      readonly state: ImportJobHeartbeat;
      /** Set when the error is worth retrying (throttling, 5xx, network): after this long. */
      readonly retryDelayMs?: number;
    };

/**
 * Builds the HealthLake import activities. Every HealthLake call gets the activity's cancellation
 * signal, so cancelling the workflow aborts an in-flight request.
 *
 * @example
 * const activities = createHealthLakeActivities({ healthLake: new HealthLake({ region }) });
 * await Worker.create({ taskQueue, activities, ... });
 */
export function createHealthLakeActivities(deps: HealthLakeActivityDeps) {
  const { healthLake } = deps;
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;
  const sleep =
    deps.sleep ??
    ((ms: number): Promise<void> => {
      try {
        return Context.current().sleep(ms);
      } catch {
        return new Promise((resolve) => setTimeout(resolve, ms)); // outside an activity
      }
    });

  function activityAttempt(): { attempt: number; startToCloseTimeoutMs?: number } {
    try {
      const { attempt, startToCloseTimeoutMs } = Context.current().info;
      return { attempt, startToCloseTimeoutMs };
    } catch {
      return { attempt: 1 };
    }
  }

  /**
   * Runs one HealthLake call, retrying a transient error (throttling, 5xx, network) inside the
   * attempt with full jitter ({@link START_CALL_RETRY}); past the retries or the time budget the
   * attempt fails with a jittered `nextRetryDelay`. Every try is one call against the account's budget.
   */
  async function callWithRetry<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const { attempt, startToCloseTimeoutMs } = activityAttempt();
    const budgetMs = startToCloseTimeoutMs === undefined ? Infinity : startToCloseTimeoutMs / 2;
    const startedMs = clock();
    for (let retry = 0; ;) {
      try {
        return await call();
      } catch (err) {
        if (classifyAwsError(err).kind !== 'retry') throw awsErrorToFailure(err, operation);
        const windowMs = Math.min(START_CALL_RETRY.capMs, START_CALL_RETRY.baseMs * 2 ** retry);
        const jitterMs = Math.floor(random() * windowMs);
        // This worker's own call budget refused the call (nothing reached AWS) and named when a slot
        // frees up. A short wait is slept inside the attempt and not counted as an AWS retry; a long
        // one goes back to the server as the attempt's retry delay, so no activity slot is held
        // while the budget is booked (hundreds of starts sleeping in their slots would starve the
        // waits' polls of slots: measured at 2,000 imports).
        const budgetWaitMs = callBudgetRetryAfterMs(err);
        if (budgetWaitMs !== undefined) {
          const delayMs = budgetWaitMs + jitterMs;
          if (delayMs > START_BUDGET_IN_ATTEMPT_WAIT_MAX_MS || clock() - startedMs + delayMs > budgetMs)
            throw awsErrorToFailure(err, operation, delayMs);
          await sleep(delayMs);
          continue;
        }
        retry++;
        if (retry > START_CALL_RETRY.retries || clock() - startedMs + jitterMs > budgetMs) {
          throw awsErrorToFailure(err, operation, jitteredAttemptDelayMs(attempt, random));
        }
        await sleep(jitterMs);
      }
    }
  }

  function signal(): AbortSignal | undefined {
    try {
      return Context.current().cancellationSignal;
    } catch {
      return undefined; // called outside an activity (a script or a unit test)
    }
  }

  function snapshotOf(
    job: ImportJobProperties,
    extra: { describeCalls: number; lastChangeAt?: string; inProgressSince?: string; totalBytes?: number },
  ): ImportJobSnapshot {
    const nowMs = clock();
    const status = job.JobStatus as ImportJobStatus;
    const counts = countsFromReport(job.JobProgressReport);
    const inProgressSince =
      extra.inProgressSince ?? (status === 'IN_PROGRESS' ? new Date(nowMs).toISOString() : undefined);
    const estimate = estimateCompletion({
      counts,
      status,
      totalBytes: extra.totalBytes,
      inProgressSinceMs: inProgressSince === undefined ? undefined : Date.parse(inProgressSince),
      nowMs,
    });
    const progress: FhirImportProgress = {
      datastoreId: job.DatastoreId ?? '',
      jobId: job.JobId,
      status,
      counts,
      ...estimate,
      describeCalls: extra.describeCalls,
      lastChangeAt: extra.lastChangeAt ?? new Date(nowMs).toISOString(),
      lastPolledAt: new Date(nowMs).toISOString(),
    };
    return {
      progress,
      jobName: job.JobName,
      message: job.Message,
      submitTime: toIso(job.SubmitTime) ?? new Date(nowMs).toISOString(),
      endTime: toIso(job.EndTime),
      inputS3Uri: job.InputDataConfig?.S3Uri ?? '',
      outputS3Uri: job.JobOutputDataConfig?.S3Configuration?.S3Uri,
      inProgressSince,
    };
  }

  async function listPages(
    args: ListImportJobsArgs,
    budgetLane: CallLane = CallLane.Wait,
  ): Promise<{ jobs: ImportJobProperties[]; nextToken?: string; listCalls: number }> {
    const jobs: ImportJobProperties[] = [];
    let nextToken = args.nextToken;
    let listCalls = 0;
    const maxPages = args.maxPages ?? DEFAULT_LIST_MAX_PAGES;
    do {
      listCalls++;
      const page = await callWithRetry('ListFHIRImportJobs', () =>
        healthLake.listFHIRImportJobs(
          {
            DatastoreId: args.datastoreId,
            JobName: args.jobName,
            JobStatus: args.jobStatus,
            SubmittedBefore: args.submittedBefore === undefined ? undefined : new Date(args.submittedBefore),
            SubmittedAfter: args.submittedAfter === undefined ? undefined : new Date(args.submittedAfter),
            MaxResults: args.maxResults ?? DEFAULT_LIST_PAGE_SIZE,
            NextToken: nextToken,
          },
          { abortSignal: signal(), budgetLane },
        ),
      );
      jobs.push(...(page.ImportJobPropertiesList ?? []));
      nextToken = page.NextToken === '' ? undefined : page.NextToken;
    } while (nextToken !== undefined && listCalls < maxPages);
    return { jobs, nextToken, listCalls };
  }

  /** The wait's poll: a shared List of the data store when coalescing, else one Describe. */
  async function pollJob(datastoreId: string, jobId: string): Promise<ImportJobProperties> {
    if (deps.listCoalescer)
      return deps.listCoalescer.describe(datastoreId, jobId, signal(), currentImportOwner());
    return describeOrThrow(datastoreId, jobId);
  }

  /** One Describe; SDK errors are thrown as they are (the caller classifies them). */
  async function describeOrThrow(datastoreId: string, jobId: string): Promise<ImportJobProperties> {
    const output = await healthLake.describeFHIRImportJob(
      { DatastoreId: datastoreId, JobId: jobId },
      { abortSignal: signal() },
    );
    if (!output.ImportJobProperties) {
      throw Object.assign(
        new Error(`DescribeFHIRImportJob returned no ImportJobProperties for job ${jobId}`),
        {
          name: ImportFailureType.InternalServerException,
        },
      );
    }
    return output.ImportJobProperties;
  }

  async function describe(datastoreId: string, jobId: string): Promise<ImportJobProperties> {
    try {
      return await describeOrThrow(datastoreId, jobId);
    } catch (err) {
      throw awsErrorToFailure(
        err,
        'DescribeFHIRImportJob',
        jitteredAttemptDelayMs(activityAttempt().attempt, random),
      );
    }
  }

  /**
   * One Describe and the decision that follows: return to the workflow (status or milestone moved)
   * or wait. `state` is where the wait stands (from the heartbeat, or the workflow's last view).
   * On a retryable error the state with this call counted rides on the thrown failure.
   */
  async function pollStep(args: AwaitImportJobArgs, state: ImportJobHeartbeat): Promise<PollStep> {
    const policy = args.pollPolicy;
    const previous = state.progress;
    const describeCalls = previous.describeCalls + 1;
    let job: ImportJobProperties;
    try {
      job = await pollJob(args.datastoreId, args.jobId);
    } catch (err) {
      const retryDelayMs = nextPollDelayMs(
        {
          pollsSinceChange: describeCalls - state.describeCallsAtChange,
          status: previous.status === 'QUEUED' ? 'QUEUED' : 'IN_PROGRESS',
          nowMs: clock(),
          deadlineMs: args.deadlineMs,
        },
        policy,
        random,
      );
      const counted: ImportJobHeartbeat = { ...state, progress: { ...previous, describeCalls } };
      const retryable = classifyAwsError(err).kind === 'retry';
      return {
        kind: 'error',
        failure: awsErrorToFailure(err, 'DescribeFHIRImportJob', retryDelayMs),
        state: counted,
        ...(retryable ? { retryDelayMs } : {}),
      };
    }
    const status = job.JobStatus as ImportJobStatus;
    const counts = countsFromReport(job.JobProgressReport);
    const changed = previous.status !== status || countsChanged(previous.counts, counts);
    const nowIso = new Date(clock()).toISOString();
    const snapshot = snapshotOf(job, {
      describeCalls,
      lastChangeAt: changed ? nowIso : (previous.lastChangeAt ?? nowIso),
      inProgressSince: state.inProgressSince,
      totalBytes: args.totalBytes,
    });
    const nowMs = clock();
    if (status !== args.knownStatus) return { kind: 'return', snapshot };
    if (args.progressDueAtMs === undefined) {
      // A wait scheduled by an older workflow: its percent milestones, and every change restarting
      // the backoff (what that workflow's history budget was computed with).
      const milestone = progressMilestone(snapshot.progress.percent, policy.maxProgressMilestones);
      if (milestone > args.knownMilestone) return { kind: 'return', snapshot };
    } else if (args.progressDueAtMs !== null && status === 'IN_PROGRESS' && nowMs >= args.progressDueAtMs) {
      return { kind: 'return', snapshot };
    }
    const legacy = args.progressDueAtMs === undefined;
    const describeCallsAtChange = legacy && changed ? describeCalls : state.describeCallsAtChange;
    const etaMs = snapshot.progress.etaMs;
    const describeCallsAtEtaDue = etaDue(etaMs, policy)
      ? (state.describeCallsAtEtaDue ?? describeCalls)
      : undefined;
    const decision = nextPoll(
      {
        pollsSinceChange: describeCalls - describeCallsAtChange,
        status,
        etaMs,
        ...(describeCallsAtEtaDue === undefined
          ? {}
          : { pollsSinceEtaDue: describeCalls - describeCallsAtEtaDue }),
        countsChanged: !legacy && changed,
        awaitingPace: !legacy && args.totalBytes !== undefined && etaMs === undefined,
        nowMs,
        deadlineMs: args.deadlineMs,
      },
      policy,
      random,
    );
    // Past the deadline: hand the latest view back; the workflow fails with the deadline.
    if (decision.kind === 'deadline-passed') return { kind: 'return', snapshot };
    let { delayMs } = decision;
    // A progress return due before the next poll: poll then (not before the floor).
    if (typeof args.progressDueAtMs === 'number' && status === 'IN_PROGRESS') {
      delayMs = Math.max(policy.minDelayMs, Math.min(delayMs, args.progressDueAtMs - nowMs));
    }
    const next: ImportJobHeartbeat = {
      progress: snapshot.progress,
      describeCallsAtChange,
      ...(describeCallsAtEtaDue === undefined ? {} : { describeCallsAtEtaDue }),
      ...(snapshot.inProgressSince === undefined ? {} : { inProgressSince: snapshot.inProgressSince }),
    };
    return { kind: 'wait', delayMs, status, state: next, changed };
  }

  /** Where a wait stands when no earlier attempt heartbeated: the workflow's last view. */
  function initialState(args: AwaitImportJobArgs): ImportJobHeartbeat {
    return {
      progress: args.lastProgress,
      describeCallsAtChange: args.describeCallsAtChange ?? args.lastProgress.describeCalls,
      ...(args.inProgressSince === undefined ? {} : { inProgressSince: args.inProgressSince }),
    };
  }

  /** What `startImportJob` heartbeats before a retryable Start failure ends its attempt. */
  interface StartHeartbeat {
    readonly startListedNothingFor: string;
  }
  function startHeartbeatOf(jobName: string): StartHeartbeat | undefined {
    let details: unknown;
    try {
      details = Context.current().info.heartbeatDetails;
    } catch {
      return undefined; // outside an activity
    }
    const saved = details as Partial<StartHeartbeat> | null | undefined;
    return saved?.startListedNothingFor === jobName ? { startListedNothingFor: jobName } : undefined;
  }
  function recordStartListed(jobName: string): void {
    try {
      Context.current().heartbeat({ startListedNothingFor: jobName } satisfies StartHeartbeat);
    } catch {
      // outside an activity: nothing to resume
    }
  }

  function savedHeartbeat(jobId: string): ImportJobHeartbeat | undefined {
    const details: unknown = Context.current().info.heartbeatDetails;
    if (typeof details !== 'object' || details === null) return undefined;
    const saved = details as ImportJobHeartbeat;
    return saved.progress?.jobId === jobId ? saved : undefined;
  }

  return {
    /**
     * Starts the import job exactly once. First looks for a job this import already submitted: ONE
     * `ListFHIRImportJobs` by the exact JobName (every status; more pages only when more than a page
     * of jobs share the name), then keeps a job with this name and S3 locations that is still
     * running whenever it was submitted (an earlier run of the same import that stopped waiting:
     * cancelled or past its deadline), or that was submitted since the workflow started (an earlier
     * attempt that crashed after HealthLake accepted it). Then starts with a ClientToken derived from
     * the import's identity, so a retry that races the lookup still gets the same job. The workflow
     * passes a name tagged with the import's identity (`importJobName`), so another import never
     * matches. A fresh import costs 1 List + 1 Start; a throttled call is retried inside the attempt.
     */
    startImportJob: async (args: StartImportJobArgs): Promise<StartedImportJob> => {
      const clientToken = importClientToken(args.identity);
      const endedSinceMs = Date.parse(args.notBefore) - SUBMIT_CLOCK_SKEW_MS;
      const sameImport = (job: ImportJobProperties): boolean =>
        job.JobName === args.jobName &&
        job.InputDataConfig?.S3Uri === args.inputS3Uri &&
        job.JobOutputDataConfig?.S3Configuration?.S3Uri === args.outputS3Uri;
      const running = (job: ImportJobProperties): boolean => RUNNING_IMPORT_STATUSES.has(job.JobStatus ?? '');
      const endedSinceStart = (job: ImportJobProperties): boolean =>
        job.SubmitTime instanceof Date && job.SubmitTime.getTime() >= endedSinceMs;
      // An earlier attempt of this run listed and found nothing, then its Start failed with a
      // retryable error (it said so in its last heartbeat): the List is not made again. The Start
      // is safe to repeat without it: its ClientToken is the same for every attempt of the run, so
      // HealthLake answers a Start that did reach it with the same job.
      const listedBefore = startHeartbeatOf(args.jobName) !== undefined;
      let nextToken: string | undefined;
      for (let page = 0; page < DEFAULT_LIST_MAX_PAGES && !listedBefore; page++) {
        // A start's List waits behind the waits' calls in the call budget (the bulk lane).
        const listed = await listPages(
          {
            datastoreId: args.datastoreId,
            jobName: args.jobName,
            maxPages: 1,
            ...(nextToken === undefined ? {} : { nextToken }),
          },
          CallLane.Bulk,
        );
        const mine = listed.jobs.filter(sameImport);
        const found = mine.find(running) ?? mine.find(endedSinceStart);
        if (found?.JobId) {
          return { jobId: found.JobId, status: found.JobStatus ?? 'SUBMITTED', how: 'found', clientToken };
        }
        nextToken = listed.nextToken;
        if (nextToken === undefined) break;
      }
      let started: Awaited<ReturnType<HealthLakeImportApi['startFHIRImportJob']>>;
      try {
        started = await callWithRetry('StartFHIRImportJob', () =>
          healthLake.startFHIRImportJob(
            {
              DatastoreId: args.datastoreId,
              JobName: args.jobName,
              InputDataConfig: { S3Uri: args.inputS3Uri },
              JobOutputDataConfig: { S3Configuration: { S3Uri: args.outputS3Uri, KmsKeyId: args.kmsKeyId } },
              DataAccessRoleArn: args.dataAccessRoleArn,
              ClientToken: clientToken,
              ...(args.validationLevel === undefined ? {} : { ValidationLevel: args.validationLevel }),
            },
            { abortSignal: signal() },
          ),
        );
      } catch (err) {
        // The next attempt resumes after the List (a retryable failure only: others end the import).
        if (err instanceof ApplicationFailure && !err.nonRetryable) recordStartListed(args.jobName);
        throw err;
      }
      if (!started.JobId) {
        throw ApplicationFailure.create({
          message: 'StartFHIRImportJob returned no JobId',
          type: ImportFailureType.InternalServerException,
        });
      }
      return { jobId: started.JobId, status: started.JobStatus ?? 'SUBMITTED', how: 'started', clientToken };
    },

    /** One Describe of one job. */
    describeImportJob: async (
      args: DescribeImportJobArgs & { totalBytes?: number },
    ): Promise<ImportJobSnapshot> => {
      const job = await describe(args.datastoreId, args.jobId);
      return snapshotOf(job, { describeCalls: 1, totalBytes: args.totalBytes });
    },

    /** Lists import jobs with every HealthLake filter, reading at most `maxPages` pages. */
    listImportJobs: async (args: ListImportJobsArgs): Promise<ListedImportJobs> => {
      const { jobs, nextToken, listCalls } = await listPages(args);
      return {
        jobs: jobs.map((job) => snapshotOf(job, { describeCalls: 0 })),
        listCalls,
        ...(nextToken === undefined ? {} : { nextToken }),
      };
    },

    /**
     * Waits for the job's status (or progress milestone) to move away from what the workflow knows.
     *
     * The hybrid of Temporal's polling patterns, chosen by measurement (activities/README.md): a
     * wait of `inAttemptWaitMaxMs` or more ends the attempt with a BENIGN `ImportJobStillRunning`
     * failure whose `nextRetryDelay` is the wait, so between Describes no worker slot is held, no
     * history event is written, and the API task queue's `maxTaskQueueActivitiesPerSecond` caps
     * Describe calls across all workers. Shorter waits (below the server's ~1 s retry-timer
     * granularity) sleep inside the attempt, for at most half of `attemptTimeoutMs`.
     *
     * Progress is heartbeated at the start and on every change (each heartbeat that reaches the
     * server is a billed action, so unchanged polls send none); the next attempt, on any worker,
     * resumes from it with exact Describe counts. The BENIGN failure carries it too. Cancellation aborts the in-flight Describe and the in-attempt sleep; between
     * attempts the server cancels the pending retry.
     */
    awaitImportJobChange: async (args: AwaitImportJobArgs): Promise<ImportJobSnapshot> =>
      runHybridWait<ImportJobHeartbeat, ImportJobSnapshot>({
        saved: savedHeartbeat(args.jobId),
        initial: initialState(args),
        knownStatus: args.knownStatus,
        firstDelayMs: firstDelayAfterReturn(args, clock(), random) ?? args.firstDelayMs,
        policy: args.pollPolicy,
        step: async (state) => {
          const step = await pollStep(args, state);
          return step.kind === 'return' ? { kind: 'return', result: step.snapshot } : step;
        },
        addCalls: (state, calls) => ({
          ...state,
          progress: { ...state.progress, describeCalls: state.progress.describeCalls + calls },
        }),
        attemptOf: (saved) => saved.attempt,
        stillRunning: (status, delayMs, state) => stillRunning(args.jobId, status, delayMs, state),
        clock,
      }),

    /**
     * The same wait as a pure heartbeating loop inside one attempt (Temporal's first polling
     * pattern). Kept for the polling benchmark and for callers who want it; it holds a worker slot
     * for the whole job and its Describe calls escape the task queue's rate limit. Needs a
     * `heartbeatTimeout`; cancellation ends the sleep and aborts the in-flight Describe.
     */
    watchImportJob: async (args: AwaitImportJobArgs): Promise<ImportJobSnapshot> => {
      const ctx = Context.current();
      let state = savedHeartbeat(args.jobId) ?? initialState(args);
      if (state.progress.describeCalls === args.lastProgress.describeCalls && args.firstDelayMs > 0) {
        await ctx.sleep(args.firstDelayMs);
      }
      for (;;) {
        const step = await pollStep(args, state);
        if (step.kind === 'return') return step.snapshot;
        state = step.state;
        ctx.heartbeat(state);
        if (step.kind === 'error') throw step.failure;
        await ctx.sleep(step.delayMs);
      }
    },
  };
}

/**
 * The first wait after a progress return (the status did not change; the workflow only took fresh
 * counts): what the Describe that made the return would have waited next (`nextPollDelayMs` from
 * the returned progress, its ETA included), not the floor the workflow passes. Without this, every
 * progress return cost one extra Describe 5 s later (2 per long import), measured in the polling
 * bench. `undefined` for a status change, an older workflow (no `progressDueAtMs`) or a status
 * other than IN_PROGRESS: the workflow's `firstDelayMs` applies.
 */
export function firstDelayAfterReturn(
  args: AwaitImportJobArgs,
  nowMs: number,
  random: () => number,
): number | undefined {
  const last = args.lastProgress;
  if (
    args.progressDueAtMs === undefined ||
    args.knownStatus !== 'IN_PROGRESS' ||
    last.status !== 'IN_PROGRESS' ||
    args.describeCallsAtChange === undefined ||
    last.describeCalls <= args.describeCallsAtChange
  ) {
    return undefined;
  }
  const policy = args.pollPolicy;
  let delayMs = nextPollDelayMs(
    {
      pollsSinceChange: last.describeCalls - args.describeCallsAtChange,
      status: 'IN_PROGRESS',
      ...(last.etaMs === undefined ? {} : { etaMs: last.etaMs }),
      ...(etaDue(last.etaMs, policy) ? { pollsSinceEtaDue: 0 } : {}),
      nowMs,
      ...(args.deadlineMs === undefined ? {} : { deadlineMs: args.deadlineMs }),
    },
    policy,
    random,
  );
  if (typeof args.progressDueAtMs === 'number') {
    delayMs = Math.max(policy.minDelayMs, Math.min(delayMs, args.progressDueAtMs - nowMs));
  }
  return Math.max(args.firstDelayMs, delayMs);
}

/** The BENIGN failure that schedules the next attempt of `awaitImportJobChange`. */
function stillRunning(
  jobId: string,
  status: string,
  delayMs: number,
  heartbeat?: ImportJobHeartbeat,
): ApplicationFailure {
  const counts = heartbeat?.progress.counts;
  return stillRunningFailure(
    ImportFailureType.ImportJobStillRunning,
    stillRunningMessage(`import job ${jobId}`, status, delayMs) +
      (counts === undefined
        ? ''
        : ` (${counts.resourcesImported.toLocaleString('en-US')} resources imported so far)`),
    delayMs,
    heartbeat,
  );
}

/** The activities object, for `proxyActivities<HealthLakeActivities>()` in workflow code. */
export type HealthLakeActivities = ReturnType<typeof createHealthLakeActivities>;

/**
 * The import whose activity is running, as the List coalescer remembers it: the workflow id and
 * the worker's own client (`Context.client`), which sends it `healthLakeJobEventSignal` when a
 * later List shows the job ended. None outside an activity (a script or a unit test without one).
 */
function currentImportOwner(): ImportJobOwner | undefined {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return undefined;
  }
  // A standalone activity (started by a client, not a workflow) has no import to tell.
  const workflowId = ctx.info.workflowExecution?.workflowId;
  if (workflowId === undefined) return undefined;
  let client: Context['client'];
  try {
    client = ctx.client;
  } catch {
    return undefined; // a MockActivityEnvironment without a client
  }
  return {
    workflowId,
    notify: (event) => client.workflow.getHandle(workflowId).signal(healthLakeJobEventSignal, event),
  };
}
