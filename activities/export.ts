// HealthLake export activities: start an export job exactly once, describe and list export jobs,
// and wait for a job's status to change on the shared polling engine (activities/job-wait.ts).
import { ApplicationFailure } from '@temporalio/common';
import type { ExportJobProperties } from '@aws-sdk/client-healthlake';
import {
  EXPORT_JOB_OUTCOMES,
  ExportFailureType,
  type ExportJobStatus,
  type ExportJobView,
} from '../workflows/export-types';
import { ImportFailureType } from '../workflows/types';
import { awsErrorToFailure } from './aws-errors';
import { CallLane } from './call-budget';
import type { HealthLakeExportApi } from './healthlake-api';
import { importClientToken } from './import';
import { activitySignal, runStatusWait, type StatusWaitArgs } from './job-wait';

/** Dependencies of {@link createExportActivities}. */
export interface ExportActivityDeps {
  /** The real client (`new HealthLake({...})`), the emulator's, or a fake. */
  readonly healthLake: HealthLakeExportApi;
  /** Epoch ms. @default Date.now */
  readonly clock?: () => number;
  /** Uniform [0, 1), for poll jitter. @default Math.random */
  readonly random?: () => number;
}

/** Arguments of `startExportJob`. */
export interface StartExportJobArgs {
  readonly datastoreId: string;
  readonly outputS3Uri: string;
  readonly kmsKeyId: string;
  readonly dataAccessRoleArn: string;
  readonly jobName: string;
  /** Stable identity of this export, `<namespace>/<workflowId>/<firstExecutionRunId>`: the ClientToken's seed. */
  readonly identity: string;
  /** ISO instant the workflow started: an ended job submitted before it cannot be this export's. */
  readonly notBefore: string;
}

/** What `startExportJob` did. */
export interface StartedExportJob {
  readonly jobId: string;
  readonly status: string;
  /** `found`: a job with this name and output location was already submitted (a crashed attempt). */
  readonly how: 'started' | 'found';
  readonly clientToken: string;
}

/** Arguments of `describeExportJob`. */
export interface DescribeExportJobArgs {
  readonly datastoreId: string;
  readonly jobId: string;
}

/** Arguments of `listExportJobs`: every HealthLake filter, plus a page bound. */
export interface ListExportJobsArgs {
  readonly datastoreId: string;
  readonly jobName?: string;
  readonly jobStatus?: ExportJobStatus;
  /** ISO instants. */
  readonly submittedBefore?: string;
  readonly submittedAfter?: string;
  /** Page size, 1-500. @default 100 */
  readonly maxResults?: number;
  /** Pages read at most. @default 5 */
  readonly maxPages?: number;
  readonly nextToken?: string;
}

export interface ListedExportJobs {
  readonly jobs: readonly ExportJobView[];
  /** Set when `maxPages` stopped the listing before the end. */
  readonly nextToken?: string;
  readonly listCalls: number;
}

/** Arguments of `awaitExportJobChange`. */
export interface AwaitExportJobArgs extends StatusWaitArgs<ExportJobView> {
  readonly datastoreId: string;
  readonly jobId: string;
}

const DEFAULT_LIST_PAGE_SIZE = 100;
const DEFAULT_LIST_MAX_PAGES = 5;
/** Statuses of an export that has not ended: such a job is reattached whenever it was submitted. */
const RUNNING_EXPORT_STATUSES: readonly ExportJobStatus[] = ['IN_PROGRESS', 'QUEUED', 'SUBMITTED'];
/** How far before the workflow start a found job may have been submitted (clock skew), in ms. */
const SUBMIT_CLOCK_SKEW_MS = 60_000;

function toIso(date: Date | undefined): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

/**
 * Builds the export activities. Every HealthLake call gets the activity's cancellation signal.
 *
 * @example
 * const activities = createExportActivities({ healthLake: new HealthLake({ region }) });
 */
export function createExportActivities(deps: ExportActivityDeps) {
  const { healthLake } = deps;
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;

  function viewOf(job: ExportJobProperties, describeCalls: number): ExportJobView {
    const submitTime = toIso(job.SubmitTime);
    const endTime = toIso(job.EndTime);
    const nowMs = clock();
    const endMs = endTime === undefined ? nowMs : Date.parse(endTime);
    return {
      datastoreId: job.DatastoreId ?? '',
      jobId: job.JobId ?? '',
      status: job.JobStatus as ExportJobStatus,
      ...(job.JobName === undefined ? {} : { jobName: job.JobName }),
      ...(job.Message === undefined ? {} : { message: job.Message }),
      ...(submitTime === undefined
        ? {}
        : { submitTime, elapsedMs: Math.max(0, endMs - Date.parse(submitTime)) }),
      ...(endTime === undefined ? {} : { endTime }),
      ...(job.OutputDataConfig?.S3Configuration?.S3Uri === undefined
        ? {}
        : { outputS3Uri: job.OutputDataConfig.S3Configuration.S3Uri }),
      describeCalls,
      lastPolledAt: new Date(nowMs).toISOString(),
    };
  }

  async function describeOrThrow(
    datastoreId: string,
    jobId: string,
    abortSignal: AbortSignal | undefined,
  ): Promise<ExportJobProperties> {
    const output = await healthLake.describeFHIRExportJob(
      { DatastoreId: datastoreId, JobId: jobId },
      { abortSignal },
    );
    if (!output.ExportJobProperties) {
      throw Object.assign(
        new Error(`DescribeFHIRExportJob returned no ExportJobProperties for job ${jobId}`),
        {
          name: ImportFailureType.InternalServerException,
        },
      );
    }
    return output.ExportJobProperties;
  }

  async function listPages(
    args: ListExportJobsArgs,
    budgetLane: CallLane = CallLane.Wait,
  ): Promise<{ jobs: ExportJobProperties[]; nextToken?: string; listCalls: number }> {
    const jobs: ExportJobProperties[] = [];
    let nextToken = args.nextToken;
    let listCalls = 0;
    const maxPages = args.maxPages ?? DEFAULT_LIST_MAX_PAGES;
    do {
      listCalls++;
      let page;
      try {
        page = await healthLake.listFHIRExportJobs(
          {
            DatastoreId: args.datastoreId,
            JobName: args.jobName,
            JobStatus: args.jobStatus,
            SubmittedBefore: args.submittedBefore === undefined ? undefined : new Date(args.submittedBefore),
            SubmittedAfter: args.submittedAfter === undefined ? undefined : new Date(args.submittedAfter),
            MaxResults: args.maxResults ?? DEFAULT_LIST_PAGE_SIZE,
            NextToken: nextToken,
          },
          { abortSignal: activitySignal(), budgetLane },
        );
      } catch (err) {
        throw awsErrorToFailure(err, 'ListFHIRExportJobs');
      }
      jobs.push(...(page.ExportJobPropertiesList ?? []));
      nextToken = page.NextToken === '' ? undefined : page.NextToken;
    } while (nextToken !== undefined && listCalls < maxPages);
    return { jobs, nextToken, listCalls };
  }

  return {
    /**
     * Starts the export job exactly once: first looks for a job this export already submitted (same
     * name and output location; submitted since the workflow started, or still running), then
     * starts with a ClientToken derived from the export's identity, so a retry that races the
     * lookup still gets the same job. At most 1 + 3 List calls of 5 pages each, and one Start.
     */
    startExportJob: async (args: StartExportJobArgs): Promise<StartedExportJob> => {
      const clientToken = importClientToken(args.identity);
      const sameExport = (job: ExportJobProperties): boolean =>
        job.JobName === args.jobName && job.OutputDataConfig?.S3Configuration?.S3Uri === args.outputS3Uri;
      const lookups: ReadonlyArray<Pick<ListExportJobsArgs, 'jobStatus' | 'submittedAfter'>> = [
        { submittedAfter: new Date(Date.parse(args.notBefore) - SUBMIT_CLOCK_SKEW_MS).toISOString() },
        ...RUNNING_EXPORT_STATUSES.map((jobStatus) => ({ jobStatus })),
      ];
      for (const lookup of lookups) {
        // A start's Lists wait behind the waits' calls in the call budget (the bulk lane).
        const { jobs } = await listPages(
          { datastoreId: args.datastoreId, jobName: args.jobName, ...lookup },
          CallLane.Bulk,
        );
        const mine = jobs.find(sameExport);
        if (mine?.JobId)
          return { jobId: mine.JobId, status: mine.JobStatus ?? 'SUBMITTED', how: 'found', clientToken };
      }
      let started;
      try {
        started = await healthLake.startFHIRExportJob(
          {
            DatastoreId: args.datastoreId,
            JobName: args.jobName,
            OutputDataConfig: { S3Configuration: { S3Uri: args.outputS3Uri, KmsKeyId: args.kmsKeyId } },
            DataAccessRoleArn: args.dataAccessRoleArn,
            ClientToken: clientToken,
          },
          { abortSignal: activitySignal() },
        );
      } catch (err) {
        throw awsErrorToFailure(err, 'StartFHIRExportJob');
      }
      if (!started.JobId) {
        throw ApplicationFailure.create({
          message: 'StartFHIRExportJob returned no JobId',
          type: ImportFailureType.InternalServerException,
        });
      }
      return { jobId: started.JobId, status: started.JobStatus ?? 'SUBMITTED', how: 'started', clientToken };
    },

    /** One Describe of one export job. */
    describeExportJob: async (args: DescribeExportJobArgs): Promise<ExportJobView> => {
      try {
        return viewOf(await describeOrThrow(args.datastoreId, args.jobId, activitySignal()), 1);
      } catch (err) {
        throw awsErrorToFailure(err, 'DescribeFHIRExportJob');
      }
    },

    /** Lists export jobs with every HealthLake filter, reading at most `maxPages` pages. */
    listExportJobs: async (args: ListExportJobsArgs): Promise<ListedExportJobs> => {
      const { jobs, nextToken, listCalls } = await listPages(args);
      return {
        jobs: jobs.map((job) => viewOf(job, 0)),
        listCalls,
        ...(nextToken === undefined ? {} : { nextToken }),
      };
    },

    /**
     * Waits for the export job's status to move away from what the workflow knows, on the shared
     * engine (`runStatusWait`): one Describe per attempt, BENIGN `ExportJobStillRunning` retries
     * for long waits, the status and elapsed time heartbeated at the start and on change.
     */
    awaitExportJobChange: async (args: AwaitExportJobArgs): Promise<ExportJobView> =>
      runStatusWait(
        {
          operation: 'DescribeFHIRExportJob',
          table: EXPORT_JOB_OUTCOMES,
          stillRunningType: ExportFailureType.ExportJobStillRunning,
          label: `export job ${args.jobId}`,
          key: args.jobId,
          describe: async (abortSignal) =>
            viewOf(await describeOrThrow(args.datastoreId, args.jobId, abortSignal), 0),
          clock,
          random,
        },
        args,
      ),
  };
}

/** The export activities object, for `proxyActivities<ExportActivities>()` in workflow code. */
export type ExportActivities = ReturnType<typeof createExportActivities>;
