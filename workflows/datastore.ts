// Data store lifecycle as durable workflows: ensure a store exists and is ACTIVE (find by name or
// create exactly once), and delete one and wait until DELETED (refused while jobs run). Both wait
// on the shared polling engine with the data store status tables.
import { ApplicationFailure, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { DatastoreActivities } from '../activities/datastore';
import {
  DATASTORE_CREATE_OUTCOMES,
  DATASTORE_DELETE_OUTCOMES,
  DatastoreFailureType,
  type DatastoreView,
  type DeleteFhirDatastoreInput,
  type DeleteFhirDatastoreResult,
  type EnsureFhirDatastoreInput,
  type EnsureFhirDatastoreResult,
} from './datastore-types';
import {
  healthLakeApiActivityOptions,
  invalidInputFailure,
  surfaceActivityFailure,
  validateWithImportRules,
  type InputProblem,
} from './lifecycle-common';
import { classifyStatus, StatusOutcome, type StatusTable } from './status-table';
import type { PollPolicy } from './types';

const NON_RETRYABLE_DATASTORE_TYPES: readonly string[] = [
  DatastoreFailureType.InvalidDatastoreInput,
  DatastoreFailureType.HealthLakeDatastoreCreateFailed,
  DatastoreFailureType.HealthLakeDatastoreDeleted,
  DatastoreFailureType.HealthLakeDatastoreHasRunningJobs,
  DatastoreFailureType.UnexpectedDatastoreStatus,
];

const ENSURE_FIELDS = [
  'datastoreName',
  'datastoreTypeVersion',
  'tags',
  'sse',
  'preloadSynthea',
  'pollPolicy',
  'apiTaskQueue',
] as const;
const DELETE_FIELDS = ['datastoreId', 'pollPolicy', 'apiTaskQueue'] as const;
const NAME_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-%@]{1,256}$/u;
const MAX_TAGS = 50;

function render(action: string, view: DatastoreView): string {
  return [
    `**HealthLake data store ${action}**`,
    '',
    '| | |',
    '|---|---|',
    `| data store | ${view.datastoreId || '(not created yet)'} |`,
    `| name | ${view.datastoreName ?? '-'} |`,
    `| status | ${view.status} |`,
    `| Describe calls | ${view.describeCalls} |`,
  ].join('\n');
}

/** Waits until the table says the wait is over; returns the last view. */
async function waitOut(
  acts: DatastoreActivities,
  view: DatastoreView,
  purpose: 'create' | 'delete',
  table: StatusTable<string>,
  policy: PollPolicy,
  action: string,
): Promise<DatastoreView> {
  let current = view;
  let first = true;
  while (classifyStatus(table, current.status) === StatusOutcome.waiting) {
    current = await acts.awaitDatastoreChange({
      datastoreId: current.datastoreId,
      purpose,
      knownStatus: current.status,
      pollPolicy: policy,
      firstDelayMs: first ? policy.initialDelayMs : policy.minDelayMs,
      lastView: current,
    });
    first = false;
    setCurrentDetails(render(action, current));
  }
  return current;
}

function checkEnsureInput(
  raw: EnsureFhirDatastoreInput,
  nowMs: number,
): { problems: InputProblem[]; policy?: PollPolicy } {
  const { problems, pollPolicy } = validateWithImportRules(
    raw,
    'EnsureFhirDatastoreInput',
    ENSURE_FIELDS,
    ['pollPolicy', 'apiTaskQueue'],
    nowMs,
  );
  if (typeof raw !== 'object' || raw === null) return { problems };
  const name: unknown = raw.datastoreName;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    problems.push({
      field: 'datastoreName',
      message: `input.datastoreName ${typeof name === 'string' ? JSON.stringify(name.slice(0, 100)) : `(${name === undefined ? 'missing' : typeof name})`} must be 1-256 letters, digits, spaces and _.:/=+-%@`,
    });
  }
  if (raw.datastoreTypeVersion !== undefined && raw.datastoreTypeVersion !== 'R4') {
    problems.push({
      field: 'datastoreTypeVersion',
      message: `input.datastoreTypeVersion ${JSON.stringify(String(raw.datastoreTypeVersion))} must be "R4"`,
    });
  }
  if (raw.tags !== undefined) {
    const entries = typeof raw.tags === 'object' && raw.tags !== null ? Object.entries(raw.tags) : undefined;
    if (
      entries === undefined ||
      entries.length > MAX_TAGS ||
      entries.some(([k, v]) => k.length > 128 || typeof v !== 'string' || v.length > 256)
    ) {
      problems.push({
        field: 'tags',
        message: `input.tags must be an object of at most ${MAX_TAGS} string values (keys 1-128, values 0-256 characters)`,
      });
    }
  }
  if (raw.sse !== undefined) {
    const cmkType: unknown = raw.sse?.cmkType;
    if (cmkType !== 'AWS_OWNED_KMS_KEY' && cmkType !== 'CUSTOMER_MANAGED_KMS_KEY') {
      problems.push({
        field: 'sse.cmkType',
        message: `input.sse.cmkType ${JSON.stringify(String(cmkType))} must be AWS_OWNED_KMS_KEY or CUSTOMER_MANAGED_KMS_KEY`,
      });
    } else if (cmkType === 'CUSTOMER_MANAGED_KMS_KEY' && typeof raw.sse.kmsKeyId !== 'string') {
      problems.push({
        field: 'sse.kmsKeyId',
        message: 'input.sse.kmsKeyId (missing) is required when sse.cmkType is CUSTOMER_MANAGED_KMS_KEY',
      });
    }
  }
  if (raw.preloadSynthea !== undefined && typeof raw.preloadSynthea !== 'boolean') {
    problems.push({
      field: 'preloadSynthea',
      message: `input.preloadSynthea (${typeof raw.preloadSynthea}) must be a boolean`,
    });
  }
  return { problems, ...(pollPolicy === undefined ? {} : { policy: pollPolicy }) };
}

/**
 * Makes sure a data store named `datastoreName` exists and is ACTIVE, and returns its id, ARN and
 * endpoint. Finds a CREATING or ACTIVE store by name first (`how: 'found'`); otherwise creates one
 * exactly once (ClientToken from the workflow identity) with the tags, SSE settings and optional
 * Synthea preload (`how: 'created'`). Waits on the shared engine; CREATE_FAILED fails
 * `HealthLakeDatastoreCreateFailed` with HealthLake's ErrorCause; a store deleted while waited for
 * fails `HealthLakeDatastoreDeleted`.
 */
export async function ensureFhirDatastoreWorkflow(
  input: EnsureFhirDatastoreInput,
): Promise<EnsureFhirDatastoreResult> {
  try {
    const info = workflowInfo();
    const { problems, policy } = checkEnsureInput(input, info.startTime.getTime());
    if (problems.length > 0 || policy === undefined) {
      throw invalidInputFailure(
        'EnsureFhirDatastoreInput',
        DatastoreFailureType.InvalidDatastoreInput,
        problems,
      );
    }
    const acts = proxyActivities<DatastoreActivities>(
      healthLakeApiActivityOptions(info.taskQueue, input.apiTaskQueue, policy, NON_RETRYABLE_DATASTORE_TYPES),
    );
    setCurrentDetails(
      render('ensure', {
        datastoreId: '',
        datastoreName: input.datastoreName,
        status: 'NOT_STARTED',
        describeCalls: 0,
      }),
    );
    const { view: begun, how } = await acts.findOrCreateDatastore({
      datastoreName: input.datastoreName,
      datastoreTypeVersion: input.datastoreTypeVersion ?? 'R4',
      ...(input.tags === undefined ? {} : { tags: input.tags }),
      ...(input.sse === undefined ? {} : { sse: input.sse }),
      ...(input.preloadSynthea === undefined ? {} : { preloadSynthea: input.preloadSynthea }),
      identity: `${info.namespace}/${info.workflowId}/${info.firstExecutionRunId}`,
    });
    setCurrentDetails(render('ensure', begun));
    const view = await waitOut(acts, begun, 'create', DATASTORE_CREATE_OUTCOMES, policy, 'ensure');
    const outcome = classifyStatus(DATASTORE_CREATE_OUTCOMES, view.status);
    if (outcome === StatusOutcome.failed) {
      const cause = view.errorCause;
      throw ApplicationFailure.create({
        message: `data store ${view.datastoreId} ended CREATE_FAILED: ${cause?.message ?? 'HealthLake gave no ErrorCause'}${cause?.category ? ` (${cause.category})` : ''}`,
        type: DatastoreFailureType.HealthLakeDatastoreCreateFailed,
        nonRetryable: true,
        details: [view],
      });
    }
    if (outcome === StatusOutcome.cancelled) {
      throw ApplicationFailure.create({
        message: `data store ${view.datastoreId} became ${view.status} while this workflow waited for it to be ACTIVE`,
        type: DatastoreFailureType.HealthLakeDatastoreDeleted,
        nonRetryable: true,
        details: [view],
      });
    }
    if (outcome !== StatusOutcome.done) {
      throw ApplicationFailure.create({
        message: `data store ${view.datastoreId} reported status "${view.status}", which "ensure" does not expect`,
        type: DatastoreFailureType.UnexpectedDatastoreStatus,
        nonRetryable: true,
        details: [view],
      });
    }
    return {
      datastoreId: view.datastoreId,
      datastoreArn: view.datastoreArn ?? begun.datastoreArn ?? '',
      datastoreEndpoint: view.datastoreEndpoint ?? begun.datastoreEndpoint ?? '',
      datastoreName: view.datastoreName ?? input.datastoreName,
      status: 'ACTIVE',
      how,
      describeCalls: view.describeCalls,
    };
  } catch (err) {
    throw surfaceActivityFailure(err);
  }
}

/**
 * Deletes a data store and waits until it is DELETED. A missing store fails
 * `ResourceNotFoundException` with HealthLake's message; a store with unfinished import or export
 * jobs is refused with `HealthLakeDatastoreHasRunningJobs` naming them (nothing is deleted); one
 * already DELETING or DELETED is waited for (`how: 'already-deleting'`).
 */
export async function deleteFhirDatastoreWorkflow(
  input: DeleteFhirDatastoreInput,
): Promise<DeleteFhirDatastoreResult> {
  try {
    const info = workflowInfo();
    const { problems, pollPolicy } = validateWithImportRules(
      input,
      'DeleteFhirDatastoreInput',
      DELETE_FIELDS,
      ['datastoreId', 'pollPolicy', 'apiTaskQueue'],
      info.startTime.getTime(),
    );
    if (problems.length > 0 || pollPolicy === undefined) {
      throw invalidInputFailure(
        'DeleteFhirDatastoreInput',
        DatastoreFailureType.InvalidDatastoreInput,
        problems,
      );
    }
    const acts = proxyActivities<DatastoreActivities>(
      healthLakeApiActivityOptions(
        info.taskQueue,
        input.apiTaskQueue,
        pollPolicy,
        NON_RETRYABLE_DATASTORE_TYPES,
      ),
    );
    const { view: begun, how } = await acts.deleteDatastore({ datastoreId: input.datastoreId });
    setCurrentDetails(render('delete', begun));
    const view = await waitOut(acts, begun, 'delete', DATASTORE_DELETE_OUTCOMES, pollPolicy, 'delete');
    if (classifyStatus(DATASTORE_DELETE_OUTCOMES, view.status) !== StatusOutcome.done) {
      throw ApplicationFailure.create({
        message: `data store ${view.datastoreId} reported status "${view.status}" after its delete was accepted`,
        type: DatastoreFailureType.UnexpectedDatastoreStatus,
        nonRetryable: true,
        details: [view],
      });
    }
    return { datastoreId: input.datastoreId, status: 'DELETED', how, describeCalls: view.describeCalls };
  } catch (err) {
    throw surfaceActivityFailure(err);
  }
}
