// Client-side helpers for pipeline code: start an import under a deterministic workflow id, and
// read a running import's live progress from its pending activity's heartbeat (no history added).
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { ActivitySerializationContext, Payload } from '@temporalio/common';
import type { fhirImportWorkflow } from '../workflows/import';
import { validateFhirImportInput, type FhirImportInputError } from '../workflows/import-input';
import {
  fhirImportWorkflowId,
  HealthLakeDatastoreId,
  importStaticSummary,
  progressQuery,
  type FhirImportInput,
  type FhirImportProgress,
  type ImportJobHeartbeat,
} from '../workflows/types';

/**
 * `startFhirImport` was given an input the workflow would reject: thrown by the helper before any
 * call to the server, with every broken rule (the same validator and message as the workflow's
 * `InvalidFhirImportInput` failure).
 */
export class InvalidFhirImportInput extends Error {
  override readonly name = 'InvalidFhirImportInput';
  /** Dotted paths of the broken fields (`''` when the input itself is not an object). */
  readonly fields: readonly string[];
  constructor(
    /** One error per broken rule, each naming the field, the value and the rule. */
    readonly errors: readonly FhirImportInputError[],
  ) {
    super(`invalid FhirImportInput: ${errors.map((e) => e.message).join('; ')}`);
    this.fields = errors.map((e) => e.field);
  }
}

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
 * The input is validated first, with the workflow's own validator: a bad input throws
 * {@link InvalidFhirImportInput} in milliseconds and nothing is sent to the server. The HealthLake
 * API task queue need not be given: the workflow asks the worker that runs it (see
 * `FhirImportInput.apiTaskQueue`).
 *
 * @example
 * const handle = await startFhirImport(client, { callerKey: batchId, taskQueue: 'fhir', input });
 * const result = await handle.result();
 */
export async function startFhirImport(
  client: Client,
  options: StartFhirImportOptions,
): Promise<WorkflowHandle<typeof fhirImportWorkflow>> {
  // Before anything reads input fields: a null, a string or a 3 MB URI fails here, not in gRPC.
  const validation = validateFhirImportInput(options.input, Date.now());
  if (!validation.ok) throw new InvalidFhirImportInput(validation.errors);
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
    const heartbeat = await decodeHeartbeat(client, payloads, {
      type: 'activity',
      namespace: client.options.namespace,
      ...(pending.activityId ? { activityId: pending.activityId } : {}),
      workflowId,
      isLocal: false,
    });
    return {
      progress: heartbeat.progress,
      source: 'heartbeat',
      activityAttempt: pending.attempt ?? undefined,
    };
  }
  return { progress: await handle.query(progressQuery), source: 'query' };
}

/**
 * Decodes heartbeat details as the worker encoded them: through the client's payload codecs (last
 * first), then its payload converter. Public API only (`client.options.loadedDataConverter`).
 */
async function decodeHeartbeat(
  client: Client,
  payloads: Payload[],
  context: ActivitySerializationContext,
): Promise<ImportJobHeartbeat> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = payloads;
  for (let i = payloadCodecs.length - 1; i >= 0; i--)
    decoded = await payloadCodecs[i]!.decode(decoded, context);
  return payloadConverter.fromPayload<ImportJobHeartbeat>(decoded[0]!);
}

export * from './codec';
export * from './codec-server';
export * from '../workflows/contract';
