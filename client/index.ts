// Client-side helpers for pipeline code: start an import under a deterministic workflow id, and
// read a running import's live progress from its pending activity's heartbeat (no history added).
import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { ActivitySerializationContext, Payload } from '@temporalio/common';
import type { fhirImportWorkflow } from '../workflows/import';
import { validateFhirImportInput, type FhirImportInputError } from '../workflows/import-input';
import { ZERO_COUNTS } from '../workflows/poll-policy';
import {
  fhirImportWorkflowId,
  HealthLakeDatastoreId,
  HealthLakeJobId,
  HealthLakeJobStatus,
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
  readonly source: 'heartbeat' | 'query' | 'result' | 'last-known';
  /** Attempt of the pending wait activity (one Describe per attempt), when there is one. */
  readonly activityAttempt?: number;
}

/** How long the `progress` query may take before the last known state answers instead. */
const QUERY_DEADLINE_MS = 5_000;

/**
 * Reads an import's progress without adding history: describes the workflow and decodes the
 * pending wait activity's heartbeat details with the client's data converter (codecs included).
 * Without a pending wait: a completed import answers from its result (no worker needed); a running
 * one from the `progress` query; when no worker answers the query (none polls, or it failed) or the
 * import failed, from the last known state (`source: 'last-known'`): the latest counts in the
 * history (a wait's result or the last progress a scheduled wait was given; one history read), the
 * progress in the failure's details, else the search attributes (counts zero: only the status and
 * job id are known).
 */
export async function readImportProgress(client: Client, workflowId: string): Promise<LiveImportProgress> {
  const handle = client.workflow.getHandle<typeof fhirImportWorkflow>(workflowId);
  const description = await handle.describe();
  for (const pending of description.raw.pendingActivities ?? []) {
    const payloads = pending.heartbeatDetails?.payloads;
    if (!WAIT_ACTIVITY_TYPES.has(pending.activityType?.name ?? '') || !payloads?.length) continue;
    const heartbeat = await decodePayloads<ImportJobHeartbeat>(client, payloads, {
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
  if (description.status.name === 'COMPLETED') {
    return { progress: (await handle.result()).progress, source: 'result' };
  }
  if (description.status.name === 'RUNNING') {
    try {
      const progress = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        handle.query(progressQuery),
      );
      return { progress, source: 'query' };
    } catch {
      // No worker answers (none polls, or it is gone): the last counts the history holds.
      const progress = await progressFromHistory(client, handle);
      if (progress !== undefined) return { progress, source: 'last-known' };
    }
  } else {
    try {
      await handle.result();
    } catch (err) {
      const progress = progressInFailure(err);
      if (progress !== undefined) return { progress, source: 'last-known' };
    }
  }
  return { progress: progressFromSearchAttributes(description), source: 'last-known' };
}

/**
 * The latest progress the history holds, newest event first: a completed activity's result with a
 * `progress` (a wait's snapshot, the start's), or a scheduled wait's `lastProgress` (what the
 * workflow knew when it scheduled it). Decoded through the client's codecs; undefined if none.
 */
async function progressFromHistory(
  client: Client,
  handle: WorkflowHandle<typeof fhirImportWorkflow>,
): Promise<FhirImportProgress | undefined> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map<string, { activityId: string; activityType: string }>();
  for (const event of events) {
    const attributes = event.activityTaskScheduledEventAttributes;
    if (attributes && event.eventId != null)
      scheduled.set(String(event.eventId), {
        activityId: attributes.activityId ?? '',
        activityType: attributes.activityType?.name ?? '',
      });
  }
  const context = (activityId: string): ActivitySerializationContext => ({
    type: 'activity',
    namespace: client.options.namespace,
    activityId,
    workflowId: handle.workflowId,
    isLocal: false,
  });
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i]!;
    const completed = event.activityTaskCompletedEventAttributes;
    const result = completed?.result?.payloads;
    if (completed && result?.length) {
      const activity = scheduled.get(String(completed.scheduledEventId));
      const value = await decodePayloads<{ progress?: unknown }>(
        client,
        result,
        context(activity?.activityId ?? ''),
      );
      if (isProgress(value?.progress)) return value.progress;
    }
    const waiting = event.activityTaskScheduledEventAttributes;
    const input = waiting?.input?.payloads;
    if (waiting && WAIT_ACTIVITY_TYPES.has(waiting.activityType?.name ?? '') && input?.length) {
      const args = await decodePayloads<{ lastProgress?: unknown }>(
        client,
        input,
        context(waiting.activityId ?? ''),
      );
      if (isProgress(args?.lastProgress)) return args.lastProgress;
    }
  }
  return undefined;
}

function isProgress(value: unknown): value is FhirImportProgress {
  return typeof value === 'object' && value !== null && 'counts' in value && 'status' in value;
}

/** The `progress` a typed import failure carries in its details (abandoned, failed, cancelled). */
function progressInFailure(err: unknown): FhirImportProgress | undefined {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    const details = (cause as { details?: unknown }).details;
    if (!Array.isArray(details)) continue;
    for (const detail of details) {
      const progress = (detail as { progress?: FhirImportProgress } | null)?.progress;
      if (progress !== undefined && typeof progress === 'object' && 'counts' in progress) return progress;
    }
  }
  return undefined;
}

/** What the search attributes say: the data store, the job and its status; no counts. */
function progressFromSearchAttributes(description: WorkflowExecutionDescription): FhirImportProgress {
  const attributes = description.typedSearchAttributes;
  const jobId = attributes.get(HealthLakeJobId);
  return {
    datastoreId: attributes.get(HealthLakeDatastoreId) ?? '',
    ...(jobId === undefined ? {} : { jobId }),
    status: (attributes.get(HealthLakeJobStatus) ?? 'NOT_STARTED') as FhirImportProgress['status'],
    counts: ZERO_COUNTS,
    describeCalls: 0,
  };
}

/**
 * The first of `payloads`, decoded as the worker encoded it: through the client's payload codecs
 * (last first), then its payload converter. Public API only (`client.options.loadedDataConverter`).
 */
async function decodePayloads<T>(
  client: Client,
  payloads: Payload[],
  context: ActivitySerializationContext,
): Promise<T> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  let decoded = payloads;
  for (let i = payloadCodecs.length - 1; i >= 0; i--)
    decoded = await payloadCodecs[i]!.decode(decoded, context);
  return payloadConverter.fromPayload<T>(decoded[0]!);
}

export * from './codec';
export * from './codec-server';
export * from '../workflows/contract';
