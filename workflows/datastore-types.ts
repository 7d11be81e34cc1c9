// The data store workflows' public contract: inputs, results, the status tables of "wait until
// ACTIVE" and "wait until DELETED", failure type names and workflow id helpers. No I/O.
import type { PollPolicy } from './types';
import type { StatusTable } from './status-table';

/** HealthLake's `DatastoreStatus`, mirrored (workflow code must not load `@aws-sdk/*`). */
export const DatastoreStatus = {
  CREATING: 'CREATING',
  ACTIVE: 'ACTIVE',
  DELETING: 'DELETING',
  DELETED: 'DELETED',
  CREATE_FAILED: 'CREATE_FAILED',
} as const;
export type DatastoreStatus = (typeof DatastoreStatus)[keyof typeof DatastoreStatus];

/** Waiting for a new (or found) data store to become ACTIVE. */
export const DATASTORE_CREATE_OUTCOMES: StatusTable<DatastoreStatus> = {
  CREATING: 'waiting',
  ACTIVE: 'done',
  CREATE_FAILED: 'failed',
  // Someone deleted it while we waited: it will never be ACTIVE.
  DELETING: 'cancelled',
  DELETED: 'cancelled',
};

/**
 * Waiting for a data store to be gone after DeleteFHIRDatastore was accepted. ACTIVE and
 * CREATE_FAILED are the states a delete starts from: a read that still shows them is behind the
 * accepted delete, so the wait goes on. CREATING cannot follow an accepted delete.
 */
export const DATASTORE_DELETE_OUTCOMES: StatusTable<DatastoreStatus> = {
  DELETING: 'waiting',
  ACTIVE: 'waiting',
  CREATE_FAILED: 'waiting',
  DELETED: 'done',
  CREATING: 'failed',
};

/** Server-side encryption of a new data store. */
export interface DatastoreSseInput {
  /** `AWS_OWNED_KMS_KEY` or `CUSTOMER_MANAGED_KMS_KEY` (then `kmsKeyId` is required). */
  readonly cmkType: 'AWS_OWNED_KMS_KEY' | 'CUSTOMER_MANAGED_KMS_KEY';
  readonly kmsKeyId?: string;
}

/** Input of `ensureFhirDatastoreWorkflow`. */
export interface EnsureFhirDatastoreInput {
  /** Name to find (a CREATING or ACTIVE store with this name is reused) or to create. */
  readonly datastoreName: string;
  /** @default 'R4' */
  readonly datastoreTypeVersion?: 'R4';
  /** Tags for a new store (ignored for a found one). @default none */
  readonly tags?: Readonly<Record<string, string>>;
  /** @default HealthLake's default (an AWS-owned key) */
  readonly sse?: DatastoreSseInput;
  /** Preload Synthea sample data into a new store. @default false */
  readonly preloadSynthea?: boolean;
  /** Overrides of {@link PollPolicy}. @default DEFAULT_POLL_POLICY */
  readonly pollPolicy?: Partial<PollPolicy>;
  /** @default `<workflow task queue>-healthlake-api` */
  readonly apiTaskQueue?: string;
}

/** What `ensureFhirDatastoreWorkflow` returns. */
export interface EnsureFhirDatastoreResult {
  readonly datastoreId: string;
  readonly datastoreArn: string;
  readonly datastoreEndpoint: string;
  readonly datastoreName: string;
  readonly status: 'ACTIVE';
  /** `found`: a store with this name existed; `created`: this workflow created it. */
  readonly how: 'found' | 'created';
  readonly describeCalls: number;
}

/** Input of `deleteFhirDatastoreWorkflow`. */
export interface DeleteFhirDatastoreInput {
  readonly datastoreId: string;
  /** Overrides of {@link PollPolicy}. @default DEFAULT_POLL_POLICY */
  readonly pollPolicy?: Partial<PollPolicy>;
  /** @default `<workflow task queue>-healthlake-api` */
  readonly apiTaskQueue?: string;
}

/** What `deleteFhirDatastoreWorkflow` returns. */
export interface DeleteFhirDatastoreResult {
  readonly datastoreId: string;
  readonly status: 'DELETED';
  /** `deleted`: this workflow's call; `already-deleting`: it was DELETING or DELETED before. */
  readonly how: 'deleted' | 'already-deleting';
  readonly describeCalls: number;
}

/** A data store as the workflows see it. */
export interface DatastoreView {
  readonly datastoreId: string;
  readonly datastoreArn?: string;
  readonly datastoreName?: string;
  readonly datastoreEndpoint?: string;
  readonly status: DatastoreStatus | 'NOT_STARTED';
  /** HealthLake's `ErrorCause` of a CREATE_FAILED store. */
  readonly errorCause?: { readonly message?: string; readonly category?: string };
  readonly describeCalls: number;
  readonly lastPolledAt?: string;
}

/** Failure `type`s of the data store workflows (AWS error names pass through as their own types). */
export const DatastoreFailureType = {
  /** Input failed validation before any activity ran. */
  InvalidDatastoreInput: 'InvalidDatastoreInput',
  /** The store ended CREATE_FAILED; the message carries HealthLake's ErrorCause. */
  HealthLakeDatastoreCreateFailed: 'HealthLakeDatastoreCreateFailed',
  /** The store was deleted while the workflow waited for it to become ACTIVE. */
  HealthLakeDatastoreDeleted: 'HealthLakeDatastoreDeleted',
  /** Delete refused: import or export jobs on the store have not ended. */
  HealthLakeDatastoreHasRunningJobs: 'HealthLakeDatastoreHasRunningJobs',
  /** A status the wait's table does not allow (CREATING after a delete, or one it does not know). */
  UnexpectedDatastoreStatus: 'UnexpectedDatastoreStatus',
  /** Not a failure: the wait asking Temporal to call it again later (BENIGN). */
  DatastoreStillChanging: 'DatastoreStillChanging',
} as const;
export type DatastoreFailureType = (typeof DatastoreFailureType)[keyof typeof DatastoreFailureType];

/** Workflow id of "ensure the store named `datastoreName`": one workflow per name at a time. */
export function ensureFhirDatastoreWorkflowId(datastoreName: string): string {
  return `fhir-datastore-ensure-${datastoreName}`;
}

/** Workflow id of "delete store `datastoreId`". */
export function deleteFhirDatastoreWorkflowId(datastoreId: string): string {
  return `fhir-datastore-delete-${datastoreId}`;
}

/** What the UI shows for `ensureFhirDatastoreWorkflow` before it runs (start options' static fields). */
export function ensureDatastoreStaticSummary(input: EnsureFhirDatastoreInput): {
  staticSummary: string;
  staticDetails: string;
} {
  const staticSummary = `HealthLake data store "${input.datastoreName}": find or create, wait ACTIVE`.slice(
    0,
    200,
  );
  const staticDetails = [
    `**HealthLake data store** \`${input.datastoreName}\` (${input.datastoreTypeVersion ?? 'R4'})`,
    '',
    '- found by name, or created; then waited for until ACTIVE',
    `- preload Synthea: ${input.preloadSynthea === true ? 'yes' : 'no'}`,
    `- encryption: ${input.sse?.cmkType === 'CUSTOMER_MANAGED_KMS_KEY' ? 'customer managed KMS key' : 'AWS owned key'}`,
  ].join('\n');
  return { staticSummary, staticDetails };
}

/** What the UI shows for `deleteFhirDatastoreWorkflow` before it runs (start options' static fields). */
export function deleteDatastoreStaticSummary(input: DeleteFhirDatastoreInput): {
  staticSummary: string;
  staticDetails: string;
} {
  return {
    staticSummary: `HealthLake data store ${input.datastoreId}: delete, wait DELETED`,
    staticDetails: [
      `**HealthLake data store deletion** of \`${input.datastoreId}\``,
      '',
      '- refused while import or export jobs run on it; then waited for until DELETED',
    ].join('\n'),
  };
}
