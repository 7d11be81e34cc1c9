// HealthLake data store activities: find-or-create exactly once, describe, list, delete (refused
// while jobs run), and wait for a store to become ACTIVE or DELETED on the shared polling engine.
import { ApplicationFailure } from '@temporalio/common';
import type { DatastoreProperties } from '@aws-sdk/client-healthlake';
import {
  DATASTORE_CREATE_OUTCOMES,
  DATASTORE_DELETE_OUTCOMES,
  DatastoreFailureType,
  type DatastoreSseInput,
  type DatastoreStatus,
  type DatastoreView,
} from '../workflows/datastore-types';
import { ImportFailureType, type ImportJobStatus } from '../workflows/types';
import { awsErrorToFailure, classifyAwsError } from './aws-errors';
import type { HealthLakeDatastoreApi, HealthLakeExportApi, HealthLakeImportApi } from './healthlake-api';
import { importClientToken } from './import';
import { activitySignal, runStatusWait, type StatusWaitArgs } from './job-wait';

/** Dependencies of {@link createDatastoreActivities}. */
export interface DatastoreActivityDeps {
  /** Needs the data store operations and both job lists (delete checks for running jobs). */
  readonly healthLake: HealthLakeDatastoreApi &
    Pick<HealthLakeImportApi, 'listFHIRImportJobs'> &
    Pick<HealthLakeExportApi, 'listFHIRExportJobs'>;
  /** Epoch ms. @default Date.now */
  readonly clock?: () => number;
  /** Uniform [0, 1), for poll jitter. @default Math.random */
  readonly random?: () => number;
}

/** Arguments of `findOrCreateDatastore`. */
export interface FindOrCreateDatastoreArgs {
  readonly datastoreName: string;
  readonly datastoreTypeVersion: 'R4';
  readonly tags?: Readonly<Record<string, string>>;
  readonly sse?: DatastoreSseInput;
  readonly preloadSynthea?: boolean;
  /** Stable identity of the workflow: the ClientToken's seed. */
  readonly identity: string;
}

/** Arguments of `awaitDatastoreChange`. */
export interface AwaitDatastoreArgs extends StatusWaitArgs<DatastoreView> {
  readonly datastoreId: string;
  /** Which table reads the status: waiting for ACTIVE (`create`) or for DELETED (`delete`). */
  readonly purpose: 'create' | 'delete';
}

/** Job statuses that block a delete. */
const UNFINISHED_JOB_STATUSES: readonly ImportJobStatus[] = [
  'IN_PROGRESS',
  'QUEUED',
  'SUBMITTED',
  'CANCEL_SUBMITTED',
  'CANCEL_IN_PROGRESS',
];
const DEFAULT_LIST_MAX_PAGES = 5;
/** Running jobs named in a refusal at most (the count is always exact up to a page). */
const MAX_JOBS_NAMED = 5;

/**
 * Builds the data store activities.
 *
 * @example
 * const activities = createDatastoreActivities({ healthLake: new HealthLake({ region }) });
 */
export function createDatastoreActivities(deps: DatastoreActivityDeps) {
  const { healthLake } = deps;
  const clock = deps.clock ?? Date.now;
  const random = deps.random ?? Math.random;

  function viewOf(props: DatastoreProperties, describeCalls: number): DatastoreView {
    const cause = props.ErrorCause;
    return {
      datastoreId: props.DatastoreId ?? '',
      ...(props.DatastoreArn === undefined ? {} : { datastoreArn: props.DatastoreArn }),
      ...(props.DatastoreName === undefined ? {} : { datastoreName: props.DatastoreName }),
      ...(props.DatastoreEndpoint === undefined ? {} : { datastoreEndpoint: props.DatastoreEndpoint }),
      status: props.DatastoreStatus as DatastoreStatus,
      ...(cause === undefined
        ? {}
        : {
            errorCause: {
              ...(cause.ErrorMessage === undefined ? {} : { message: cause.ErrorMessage }),
              ...(cause.ErrorCategory === undefined ? {} : { category: cause.ErrorCategory }),
            },
          }),
      describeCalls,
      lastPolledAt: new Date(clock()).toISOString(),
    };
  }

  async function describeOrThrow(
    datastoreId: string,
    abortSignal?: AbortSignal,
  ): Promise<DatastoreProperties> {
    const output = await healthLake.describeFHIRDatastore({ DatastoreId: datastoreId }, { abortSignal });
    if (!output.DatastoreProperties) {
      throw Object.assign(
        new Error(`DescribeFHIRDatastore returned no DatastoreProperties for ${datastoreId}`),
        {
          name: ImportFailureType.InternalServerException,
        },
      );
    }
    return output.DatastoreProperties;
  }

  async function describe(datastoreId: string): Promise<DatastoreProperties> {
    try {
      return await describeOrThrow(datastoreId, activitySignal());
    } catch (err) {
      throw awsErrorToFailure(err, 'DescribeFHIRDatastore');
    }
  }

  async function listByName(datastoreName: string | undefined, status?: DatastoreStatus) {
    const stores: DatastoreProperties[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      pages++;
      let page;
      try {
        page = await healthLake.listFHIRDatastores(
          {
            Filter: {
              ...(datastoreName === undefined ? {} : { DatastoreName: datastoreName }),
              ...(status === undefined ? {} : { DatastoreStatus: status }),
            },
            NextToken: nextToken,
          },
          { abortSignal: activitySignal() },
        );
      } catch (err) {
        throw awsErrorToFailure(err, 'ListFHIRDatastores');
      }
      stores.push(...(page.DatastorePropertiesList ?? []));
      nextToken = page.NextToken === '' ? undefined : page.NextToken;
    } while (nextToken !== undefined && pages < DEFAULT_LIST_MAX_PAGES);
    return stores;
  }

  /** Unfinished import and export jobs on the store (one List per kind and status, one page each). */
  async function unfinishedJobs(
    datastoreId: string,
  ): Promise<Array<{ kind: string; jobId: string; status: string }>> {
    const found: Array<{ kind: string; jobId: string; status: string }> = [];
    for (const status of UNFINISHED_JOB_STATUSES) {
      try {
        const imports = await healthLake.listFHIRImportJobs(
          { DatastoreId: datastoreId, JobStatus: status, MaxResults: 100 },
          { abortSignal: activitySignal() },
        );
        for (const job of imports.ImportJobPropertiesList ?? [])
          found.push({ kind: 'import', jobId: job.JobId ?? '?', status });
        const exports = await healthLake.listFHIRExportJobs(
          { DatastoreId: datastoreId, JobStatus: status, MaxResults: 100 },
          { abortSignal: activitySignal() },
        );
        for (const job of exports.ExportJobPropertiesList ?? [])
          found.push({ kind: 'export', jobId: job.JobId ?? '?', status });
      } catch (err) {
        throw awsErrorToFailure(err, 'ListFHIR*Jobs');
      }
      // One unfinished job is enough to refuse; stop spending the List budget.
      if (found.length > 0) break;
    }
    return found;
  }

  return {
    /**
     * Finds a CREATING or ACTIVE data store named `datastoreName` (the oldest, if several), or
     * creates one with a ClientToken derived from the workflow identity (a retried create returns
     * the same store). Tags, SSE and the Synthea preload apply to a new store only.
     */
    findOrCreateDatastore: async (
      args: FindOrCreateDatastoreArgs,
    ): Promise<{ view: DatastoreView; how: 'found' | 'created' }> => {
      const named = await listByName(args.datastoreName);
      const usable = named.find((d) => d.DatastoreStatus === 'ACTIVE' || d.DatastoreStatus === 'CREATING');
      if (usable) return { view: viewOf(usable, 0), how: 'found' };
      let created;
      try {
        created = await healthLake.createFHIRDatastore(
          {
            DatastoreName: args.datastoreName,
            DatastoreTypeVersion: args.datastoreTypeVersion,
            ClientToken: importClientToken(args.identity),
            ...(args.sse === undefined
              ? {}
              : {
                  SseConfiguration: {
                    KmsEncryptionConfig: {
                      CmkType: args.sse.cmkType,
                      ...(args.sse.kmsKeyId === undefined ? {} : { KmsKeyId: args.sse.kmsKeyId }),
                    },
                  },
                }),
            ...(args.preloadSynthea ? { PreloadDataConfig: { PreloadDataType: 'SYNTHEA' } } : {}),
            ...(args.tags === undefined
              ? {}
              : { Tags: Object.entries(args.tags).map(([Key, Value]) => ({ Key, Value })) }),
          },
          { abortSignal: activitySignal() },
        );
      } catch (err) {
        throw awsErrorToFailure(err, 'CreateFHIRDatastore');
      }
      if (!created.DatastoreId) {
        throw ApplicationFailure.create({
          message: 'CreateFHIRDatastore returned no DatastoreId',
          type: ImportFailureType.InternalServerException,
        });
      }
      return {
        view: {
          datastoreId: created.DatastoreId,
          ...(created.DatastoreArn === undefined ? {} : { datastoreArn: created.DatastoreArn }),
          ...(created.DatastoreEndpoint === undefined
            ? {}
            : { datastoreEndpoint: created.DatastoreEndpoint }),
          datastoreName: args.datastoreName,
          status: created.DatastoreStatus ?? 'CREATING',
          describeCalls: 0,
        },
        how: 'created',
      };
    },

    /** One Describe of one data store. */
    describeDatastore: async (args: { datastoreId: string }): Promise<DatastoreView> =>
      viewOf(await describe(args.datastoreId), 1),

    /** Lists data stores, optionally by name and status (at most 5 pages). */
    listDatastores: async (args: {
      datastoreName?: string;
      status?: DatastoreStatus;
    }): Promise<DatastoreView[]> =>
      (await listByName(args.datastoreName, args.status)).map((d) => viewOf(d, 0)),

    /**
     * Deletes a data store. Describes it first (a missing store fails `ResourceNotFoundException`
     * with HealthLake's message; one already DELETING or DELETED is `already-deleting`, so a retried
     * delete is not an error), then refuses with `HealthLakeDatastoreHasRunningJobs` while import or
     * export jobs on it have not ended, naming them. A job started between that check and the call
     * makes HealthLake answer ConflictException, which fails the same way under its AWS name.
     */
    deleteDatastore: async (args: {
      datastoreId: string;
    }): Promise<{ view: DatastoreView; how: 'deleted' | 'already-deleting' }> => {
      const current = viewOf(await describe(args.datastoreId), 1);
      if (current.status === 'DELETING' || current.status === 'DELETED')
        return { view: current, how: 'already-deleting' };
      const running = await unfinishedJobs(args.datastoreId);
      if (running.length > 0) {
        const named = running
          .slice(0, MAX_JOBS_NAMED)
          .map((j) => `${j.kind} job ${j.jobId} (${j.status})`)
          .join(', ');
        throw ApplicationFailure.create({
          message: `data store ${args.datastoreId} has unfinished jobs: ${named}; delete it after they end`,
          type: DatastoreFailureType.HealthLakeDatastoreHasRunningJobs,
          nonRetryable: true,
          details: [{ datastoreId: args.datastoreId, jobs: running.slice(0, MAX_JOBS_NAMED) }],
        });
      }
      let deleted;
      try {
        deleted = await healthLake.deleteFHIRDatastore(
          { DatastoreId: args.datastoreId },
          { abortSignal: activitySignal() },
        );
      } catch (err) {
        throw awsErrorToFailure(err, 'DeleteFHIRDatastore');
      }
      return {
        view: { ...current, status: deleted.DatastoreStatus ?? 'DELETING' },
        how: 'deleted',
      };
    },

    /**
     * Waits for the store's status to move away from what the workflow knows, on the shared engine
     * (`runStatusWait`). For `delete`, a store the service no longer knows (ResourceNotFound after
     * an accepted delete) reads as DELETED.
     */
    awaitDatastoreChange: async (args: AwaitDatastoreArgs): Promise<DatastoreView> =>
      runStatusWait(
        {
          operation: 'DescribeFHIRDatastore',
          table: args.purpose === 'create' ? DATASTORE_CREATE_OUTCOMES : DATASTORE_DELETE_OUTCOMES,
          stillRunningType: DatastoreFailureType.DatastoreStillChanging,
          label: `data store ${args.datastoreId}`,
          key: args.datastoreId,
          describe: async (abortSignal) => {
            try {
              return viewOf(await describeOrThrow(args.datastoreId, abortSignal), 0);
            } catch (err) {
              const decision = classifyAwsError(err);
              if (
                args.purpose === 'delete' &&
                decision.kind === 'fail' &&
                decision.type === 'ResourceNotFoundException'
              )
                return { ...args.lastView, status: 'DELETED' as const, describeCalls: 0 };
              throw err;
            }
          },
          clock,
          random,
        },
        args,
      ),
  };
}

/** The data store activities object, for `proxyActivities<DatastoreActivities>()` in workflow code. */
export type DatastoreActivities = ReturnType<typeof createDatastoreActivities>;
