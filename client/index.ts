// Client-side helpers for pipeline code: start an import under a deterministic workflow id, and
// read a running import's live progress from its pending activity's heartbeat (no history added).
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow';
import type { fhirImportWorkflow } from '../workflows/import';
import {
  fhirImportWorkflowId,
  HealthLakeDatastoreId,
  importStaticSummary,
  progressQuery,
  type FhirImportInput,
  type FhirImportProgress,
  type ImportJobHeartbeat,
} from '../workflows/types';

/** Activity types whose heartbeat details are an {@link ImportJobHeartbeat}. */
const WAIT_ACTIVITY_TYPES: ReadonlySet<string> = new Set(['awaitImportJobChange', 'watchImportJob']);

export interface StartFhirImportOptions {
  /**
   * Your key for this import (a batch id, a pipeline run): the workflow id is derived from it, so a
   * retried caller gets the same import instead of a second one.
   */
  readonly callerKey: string;
  /** Task queue of the worker running `fhirImportWorkflow`. */
  readonly taskQueue: string;
  readonly input: FhirImportInput;
  /**
   * Whether a closed import with the same key may run again: `failed-only` lets a failed, cancelled
   * or timed-out import be retried under the same key (a new job); `never` always attaches.
   * @default 'failed-only'
   */
  readonly rerun?: 'failed-only' | 'never';
}

/**
 * Starts `fhirImportWorkflow` for `callerKey`, or returns the handle of the import already started
 * for it (running, or closed when it may not run again). Sets the UI's static summary/details and
 * the `HealthLakeDatastoreId` search attribute at start.
 *
 * @example
 * const handle = await startFhirImport(client, { callerKey: batchId, taskQueue: 'fhir', input });
 * const result = await handle.result();
 */
export async function startFhirImport(
  client: Client,
  options: StartFhirImportOptions,
): Promise<WorkflowHandle<typeof fhirImportWorkflow>> {
  const workflowId = fhirImportWorkflowId(options.callerKey);
  try {
    return await client.workflow.start<typeof fhirImportWorkflow>('fhirImportWorkflow', {
      workflowId,
      taskQueue: options.taskQueue,
      args: [options.input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: options.rerun === 'never' ? 'REJECT_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [{ key: HealthLakeDatastoreId, value: options.input.datastoreId }],
      ...importStaticSummary(options.input),
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return client.workflow.getHandle<typeof fhirImportWorkflow>(workflowId);
  }
}

/** Where {@link readImportProgress}'s answer came from. */
export interface LiveImportProgress {
  readonly progress: FhirImportProgress;
  /**
   * `heartbeat`: the wait activity's latest heartbeat (fresh to the last Describe that changed
   * something); `query`: the workflow's own view (refreshed on status changes and milestones).
   */
  readonly source: 'heartbeat' | 'query';
  /** Attempt of the pending wait activity (one Describe per attempt), when there is one. */
  readonly activityAttempt?: number;
}

/**
 * Reads a running import's live progress without adding history: describes the workflow and
 * decodes the pending wait activity's heartbeat details with the client's data converter (codecs
 * included). Falls back to the `progress` query when no wait activity is pending (before the job
 * starts, between two waits, or after the end).
 */
export async function readImportProgress(client: Client, workflowId: string): Promise<LiveImportProgress> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  for (const pending of description.raw.pendingActivities ?? []) {
    const payloads = pending.heartbeatDetails?.payloads;
    if (!WAIT_ACTIVITY_TYPES.has(pending.activityType?.name ?? '') || !payloads?.length) continue;
    const heartbeat = await decodeFromPayloadsAtIndex<ImportJobHeartbeat>(
      client.options.loadedDataConverter,
      0,
      payloads,
    );
    return {
      progress: heartbeat.progress,
      source: 'heartbeat',
      activityAttempt: pending.attempt ?? undefined,
    };
  }
  return { progress: await handle.query(progressQuery), source: 'query' };
}

export * from './codec';
export * from './codec-server';
export * from '../workflows/contract';
