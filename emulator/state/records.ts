// The emulator's records: what it knows about each data store and job. Times are epoch ms;
// the wire layer turns them into AWS's epoch seconds.
import type { DatastoreStatus, JobStatus, ValidationLevel } from '@aws-sdk/client-healthlake';

export interface DatastoreRecord {
  readonly datastoreId: string;
  readonly datastoreArn: string;
  readonly datastoreEndpoint: string;
  readonly datastoreName?: string;
  status: DatastoreStatus;
  readonly datastoreTypeVersion: string;
  readonly createdAtMs: number;
  /** When the current status began (drives CREATING → ACTIVE and DELETING → DELETED). */
  statusSinceMs: number;
  readonly sseConfiguration?: unknown;
  readonly preloadDataConfig?: unknown;
  readonly identityProviderConfiguration?: unknown;
  tags: Record<string, string>;
  readonly clientToken?: string;
  /** The create request as received, to tell a retried ClientToken from a reused one. */
  readonly requestFingerprint: string;
  /** AWS's `ErrorCause` of a CREATE_FAILED store (set by the `failCreate` control). */
  errorCause?: { ErrorMessage: string; ErrorCategory: 'RETRYABLE_ERROR' | 'NON_RETRYABLE_ERROR' };
}

export const JOB_KINDS = ['import', 'export'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** AWS's JobProgressReport, kept as numbers the engine adds to. */
export interface JobProgress {
  TotalNumberOfScannedFiles: number;
  TotalSizeOfScannedFilesInMB: number;
  TotalNumberOfImportedFiles: number;
  TotalNumberOfResourcesScanned: number;
  TotalNumberOfResourcesImported: number;
  TotalNumberOfResourcesWithCustomerError: number;
  TotalNumberOfFilesReadWithCustomerError: number;
  Throughput: number;
}

export const emptyProgress = (): JobProgress => ({
  TotalNumberOfScannedFiles: 0,
  TotalSizeOfScannedFilesInMB: 0,
  TotalNumberOfImportedFiles: 0,
  TotalNumberOfResourcesScanned: 0,
  TotalNumberOfResourcesImported: 0,
  TotalNumberOfResourcesWithCustomerError: 0,
  TotalNumberOfFilesReadWithCustomerError: 0,
  Throughput: 0,
});

/**
 * StartFHIRImportJob members of the current botocore model (1.44) that the JS SDK 3.1048 does not
 * model. The emulator stores them and describes them back; it does not change how a job runs.
 */
export interface NewerImportOptions {
  readonly ProfileId?: string;
  readonly InputFormat?: string;
  readonly DriftDetectionEnabled?: boolean;
  readonly ProvenanceEnabled?: boolean;
}

/** The members of {@link NewerImportOptions}, in model order. */
export const NEWER_IMPORT_OPTION_NAMES = [
  'ProfileId',
  'InputFormat',
  'DriftDetectionEnabled',
  'ProvenanceEnabled',
] as const;

export interface JobRecord {
  readonly kind: JobKind;
  readonly jobId: string;
  readonly datastoreId: string;
  readonly jobName?: string;
  status: JobStatus;
  readonly submitTimeMs: number;
  endTimeMs?: number;
  /** Import only: `InputDataConfig.S3Uri`. */
  readonly inputS3Uri?: string;
  readonly outputS3Uri: string;
  readonly kmsKeyId: string;
  readonly dataAccessRoleArn: string;
  readonly validationLevel?: ValidationLevel;
  /** Import only: newer-model StartFHIRImportJob members, stored and described back as given. */
  readonly newerImportOptions?: NewerImportOptions;
  message?: string;
  /** Import only: the last published progress report. */
  progress?: JobProgress;
  readonly clientToken?: string;
  readonly requestFingerprint: string;
  /** How many times the job was restarted after an emulator restart. */
  restarts: number;
}

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = [
  'COMPLETED',
  'COMPLETED_WITH_ERRORS',
  'FAILED',
  'CANCEL_COMPLETED',
  'CANCEL_FAILED',
];

export const isTerminal = (status: JobStatus): boolean => TERMINAL_JOB_STATUSES.includes(status);
