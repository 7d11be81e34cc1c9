// One ListFHIRImportJobs per data store answers the polls of every import waiting on that store
// (issue 9, item 2). ListFHIRImportJobs returns each job's JobProgressReport, and AWS's default
// quotas (10 data stores per account, 1 running import per store) make thousands of imports in one
// account hundreds per store, mostly QUEUED: per-store Lists spend the account's budget per store,
// not per import.
//
// Where the batching lives, and why: in the API worker process, as a coalescing cache in front of
// the wait's Describe. A per-data-store watcher workflow would add a workflow, its history, signals
// to every import (events) and a new failure mode; the gate serializes starts, not waits. The
// coalescer changes no workflow code (nothing to patch, nothing to replay differently), keeps each
// import's own wait, backoff, heartbeat and deadline, and falls back to a Describe for any job a
// List did not return. Its limit: it coalesces within one process (N API workers make up to N
// Lists per store per window), which `maxAgeMs` bounds.
//
// Ended jobs wake their imports: a List shows every job of the store, so it sees a job end that
// no poll of that job asked about (its wait is handed back to the server for a minute while the
// job sat QUEUED, and the job ran in seconds). For every job whose import polled through this
// process before (the owner is remembered from the poll), the first List that shows it ended
// sends the import the same `healthLakeJobEventSignal` HealthLake's own events send through the
// relay: the wait wakes at once and describes once. So detection at scale is one List cycle of
// the store, not the ended job's own backoff (issue 9: p50 86 s at 2,000 imports without it), and
// it costs no HealthLake call beyond the Lists that polls make anyway.
import type { ImportJobProperties } from '@aws-sdk/client-healthlake';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { HealthLakeJobEvent } from '../workflows/job-events';
import { isTerminalImportStatus } from '../workflows/import-status';
import type { HealthLakeImportApi } from './healthlake-api';

/** Options of {@link createImportListCoalescer}. */
export interface ImportListCoalescerOptions {
  /**
   * How long the first poll of a batch waits for others on the same data store before the List
   * goes out, in ms. Adds up to this much to each poll's latency. @default 200
   */
  readonly windowMs?: number;
  /**
   * A List answers polls that arrive up to this long after it returned, in ms, without a new call
   * (so many imports whose waits fall due a moment apart share one List). @default 1_000
   */
  readonly maxAgeMs?: number;
  /** List page size (HealthLake allows 1-500). @default 500 */
  readonly pageSize?: number;
  /** Pages per List round at most; jobs not found by then are described. @default 3 */
  readonly maxPages?: number;
  /** Epoch ms. @default Date.now */
  readonly clock?: () => number;
  /**
   * Owners remembered (job id → the import that polls it), oldest dropped first. One entry per
   * waiting import; an ended job's entry goes once its import was told. @default 50_000
   */
  readonly maxOwners?: number;
}

/** Calls the coalescer made and polls it answered (for the bench and tests). */
export interface ImportListCoalescerStats {
  /** ListFHIRImportJobs pages requested. */
  listCalls: number;
  /** DescribeFHIRImportJob calls for jobs a List did not return. */
  describeCalls: number;
  /** Polls answered (from a List or a fallback Describe). */
  answered: number;
  /** Imports told by signal that a List showed their job ended (no poll of theirs was waiting). */
  endsSignalled: number;
  /** Such signals to an import that had closed meanwhile (its own poll, or another worker, told it first). */
  endSignalsToClosed: number;
  /** Such signals that failed otherwise (the server unreachable): the import's own poll finds the end. */
  endSignalsFailed: number;
}

/**
 * The import that polls a job: who to tell when a List shows the job ended while that import's
 * wait was not asking (activities/import.ts passes the activity's workflow and its client).
 */
export interface ImportJobOwner {
  readonly workflowId: string;
  /** Sends the import `healthLakeJobEventSignal` with `event`. */
  notify(event: HealthLakeJobEvent): Promise<void>;
}

/** Describes import jobs by data store through shared List calls. */
export interface ImportListCoalescer {
  /**
   * The job as the latest List of its data store saw it; SDK errors are thrown as they are.
   * `owner` is remembered, so a later List that shows the job ended tells that import at once.
   */
  describe(
    datastoreId: string,
    jobId: string,
    signal?: AbortSignal,
    owner?: ImportJobOwner,
  ): Promise<ImportJobProperties>;
  readonly stats: ImportListCoalescerStats;
}

interface Waiter {
  readonly jobId: string;
  resolve(job: ImportJobProperties): void;
  reject(err: unknown): void;
}

interface StoreState {
  /** Polls waiting for the next List. */
  batch?: { waiters: Waiter[] };
  /**
   * The List in flight and the polls it will answer: polls that arrive while it is out join it
   * instead of starting another List for the same store (with a call budget a List can wait
   * seconds for its slot; the scale bench saw 6 Lists/s where 10 stores x 2 workers / 4 s allow 5).
   */
  inflight?: { waiters: Waiter[] };
  /** The last List's jobs and when it returned. */
  last?: { atMs: number; jobs: Map<string, ImportJobProperties> };
}

/**
 * Creates a coalescer over `healthLake`. One instance per API worker process (the worker creates
 * it when `coalesceImportPolls` is set): concurrent waits on one data store share its Lists.
 */
export function createImportListCoalescer(
  healthLake: HealthLakeImportApi,
  options: ImportListCoalescerOptions = {},
): ImportListCoalescer {
  const windowMs = options.windowMs ?? 200;
  const maxAgeMs = options.maxAgeMs ?? 1_000;
  const pageSize = options.pageSize ?? 500;
  const maxPages = options.maxPages ?? 3;
  const clock = options.clock ?? Date.now;
  const maxOwners = options.maxOwners ?? 50_000;
  const stores = new Map<string, StoreState>();
  const stats: ImportListCoalescerStats = {
    listCalls: 0,
    describeCalls: 0,
    answered: 0,
    endsSignalled: 0,
    endSignalsToClosed: 0,
    endSignalsFailed: 0,
  };
  /** Job id → the import polling it (insertion order = age, for the bound). */
  const owners = new Map<string, { readonly datastoreId: string; readonly owner: ImportJobOwner }>();
  const remember = (datastoreId: string, jobId: string, owner: ImportJobOwner): void => {
    owners.delete(jobId);
    owners.set(jobId, { datastoreId, owner });
    if (owners.size > maxOwners) owners.delete(owners.keys().next().value!);
  };

  /**
   * Tells the import of every remembered job this List shows ended, except the jobs whose polls
   * it answers (their waits return the end themselves). Once per job: the entry goes.
   */
  function signalEnded(datastoreId: string, jobs: Map<string, ImportJobProperties>, answered: Set<string>) {
    for (const [jobId, job] of jobs) {
      const entry = owners.get(jobId);
      if (entry === undefined || entry.datastoreId !== datastoreId) continue;
      const status = job.JobStatus;
      if (status === undefined || !isTerminalImportStatus(status)) continue;
      owners.delete(jobId);
      if (answered.has(jobId)) continue;
      const event: HealthLakeJobEvent = {
        datastoreId,
        jobId,
        status,
        // Stable per job and status: a second List (or worker) sending it again is a duplicate.
        eventId: `list:${jobId}:${status}`,
        time: new Date(job.EndTime ?? clock()).toISOString(),
      };
      entry.owner.notify(event).then(
        () => void stats.endsSignalled++,
        (err: unknown) =>
          void (err instanceof WorkflowNotFoundError ? stats.endSignalsToClosed++ : stats.endSignalsFailed++),
      );
    }
  }

  async function describeOne(datastoreId: string, jobId: string): Promise<ImportJobProperties> {
    stats.describeCalls++;
    const output = await healthLake.describeFHIRImportJob({ DatastoreId: datastoreId, JobId: jobId });
    if (!output.ImportJobProperties) {
      throw Object.assign(
        new Error(`DescribeFHIRImportJob returned no ImportJobProperties for job ${jobId}`),
        {
          name: 'InternalServerException',
        },
      );
    }
    return output.ImportJobProperties;
  }

  async function flush(datastoreId: string, state: StoreState): Promise<void> {
    const inflight = state.batch ?? { waiters: [] };
    state.batch = undefined;
    state.inflight = inflight;
    const waiters = inflight.waiters; // grows while the List is out (late polls join it)
    const wanted = new Set(waiters.map((w) => w.jobId));
    const jobs = new Map<string, ImportJobProperties>();
    try {
      let nextToken: string | undefined;
      for (let page = 0; page < maxPages; page++) {
        stats.listCalls++;
        const output = await healthLake.listFHIRImportJobs({
          DatastoreId: datastoreId,
          MaxResults: pageSize,
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        });
        for (const job of output.ImportJobPropertiesList ?? []) if (job.JobId) jobs.set(job.JobId, job);
        nextToken = output.NextToken === '' ? undefined : output.NextToken;
        if (nextToken === undefined || [...wanted].every((id) => jobs.has(id))) break;
      }
    } catch (err) {
      state.inflight = undefined;
      for (const waiter of waiters) waiter.reject(err);
      return;
    }
    state.inflight = undefined;
    state.last = { atMs: clock(), jobs };
    signalEnded(datastoreId, jobs, new Set(waiters.map((w) => w.jobId)));
    for (const waiter of waiters) {
      const job = jobs.get(waiter.jobId);
      if (job) {
        stats.answered++;
        waiter.resolve(job);
      } else {
        // Older than the pages read, or not listed yet: this one job is described.
        describeOne(datastoreId, waiter.jobId).then(
          (described) => {
            stats.answered++;
            waiter.resolve(described);
          },
          (err: unknown) => waiter.reject(err),
        );
      }
    }
  }

  return {
    stats,
    describe(datastoreId, jobId, signal, owner) {
      if (owner) remember(datastoreId, jobId, owner);
      const state: StoreState = stores.get(datastoreId) ?? {};
      stores.set(datastoreId, state);
      const fresh = state.last !== undefined && clock() - state.last.atMs < maxAgeMs;
      const cached = fresh ? state.last?.jobs.get(jobId) : undefined;
      if (cached) {
        stats.answered++;
        return Promise.resolve(cached);
      }
      return new Promise<ImportJobProperties>((resolve, reject) => {
        const onAbort = (): void =>
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        const done =
          <T>(fn: (value: T) => void) =>
          (value: T) => {
            signal?.removeEventListener('abort', onAbort);
            fn(value);
          };
        const waiter: Waiter = { jobId, resolve: done(resolve), reject: done(reject) };
        const current = state;
        if (current.inflight) {
          current.inflight.waiters.push(waiter);
          return;
        }
        if (current.batch) {
          current.batch.waiters.push(waiter);
          return;
        }
        current.batch = { waiters: [waiter] };
        setTimeout(() => void flush(datastoreId, current), windowMs);
      });
    },
  };
}
