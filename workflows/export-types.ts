// The export workflow's public contract: input, result, the export job's status table, failure
// type names and the workflow id helper. No I/O and no workflow or activity code: clients import it.
import type { PollPolicy } from './types';
import { ImportJobStatus } from './types';
import type { StatusTable } from './status-table';

/** HealthLake's `JobStatus` is shared by import and export jobs. */
export const ExportJobStatus = ImportJobStatus;
export type ExportJobStatus = ImportJobStatus;

/**
 * What each export job status means to the wait. CANCEL_SUBMITTED / CANCEL_IN_PROGRESS wait for
 * the cancel to settle; both CANCEL_COMPLETED and CANCEL_FAILED end the export as cancelled (no
 * complete output is promised either way). COMPLETED_WITH_ERRORS is not documented for exports; if
 * HealthLake ever answers it, the output exists and the result carries the status.
 */
export const EXPORT_JOB_OUTCOMES: StatusTable<ExportJobStatus> = {
  SUBMITTED: 'waiting',
  QUEUED: 'waiting',
  IN_PROGRESS: 'waiting',
  CANCEL_SUBMITTED: 'waiting',
  CANCEL_IN_PROGRESS: 'waiting',
  COMPLETED: 'done',
  COMPLETED_WITH_ERRORS: 'done',
  FAILED: 'failed',
  CANCEL_COMPLETED: 'cancelled',
  CANCEL_FAILED: 'cancelled',
};

/** Input of `fhirExportWorkflow`. One object, all JSON. */
export interface FhirExportInput {
  /** HealthLake data store id. */
  readonly datastoreId: string;
  /** Where HealthLake writes the export, `s3://<bucket>/<prefix>`. */
  readonly outputS3Uri: string;
  /** KMS key id, key ARN or `alias/...` for the output. */
  readonly kmsKeyId: string;
  /** `arn:aws:iam::<account>:role/<name>` that HealthLake assumes to write S3. */
  readonly dataAccessRoleArn: string;
  /** HealthLake job name. @default derived from the workflow id (deterministic) */
  readonly jobName?: string;
  /** Overrides of {@link PollPolicy}. @default DEFAULT_POLL_POLICY */
  readonly pollPolicy?: Partial<PollPolicy>;
  /**
   * Count the exported files and resources per resource type after completion (reads every output
   * object once on the workflow's task queue; needs a worker with an S3 client). `false` skips it
   * and the result has no counts. @default true
   */
  readonly countOutput?: boolean;
  /** Task queue of the HealthLake API activities. @default `<workflow task queue>-healthlake-api` */
  readonly apiTaskQueue?: string;
}

/** Files and resources of one resource type in the export output. */
export interface ExportTypeCount {
  readonly files: number;
  readonly resources: number;
  readonly bytes: number;
}

/** What the output folder holds (from listing and reading it once). */
export interface ExportOutputCounts {
  readonly files: number;
  readonly resources: number;
  readonly bytes: number;
  /** Per resource type (the folder each file is in), sorted by type name. */
  readonly byType: Readonly<Record<string, ExportTypeCount>>;
}

/** What `fhirExportWorkflow` returns. Ids, URIs and counts only. */
export interface FhirExportResult {
  readonly jobId: string;
  readonly datastoreId: string;
  readonly jobName?: string;
  readonly status: 'COMPLETED' | 'COMPLETED_WITH_ERRORS';
  /** HealthLake's job `Message`, when it gave one. */
  readonly message?: string;
  /** `<outputS3Uri>/<datastoreId>-FHIR_EXPORT-<jobId>/` */
  readonly outputFolderS3Uri: string;
  /** ISO instants from HealthLake. */
  readonly submitTime: string;
  readonly endTime?: string;
  /** endTime − submitTime in ms. */
  readonly durationMs: number;
  readonly describeCalls: number;
  /** Absent with `countOutput: false`. */
  readonly output?: ExportOutputCounts;
}

/** The live view of an export job (heartbeated by the wait, held by the workflow). */
export interface ExportJobView {
  readonly datastoreId: string;
  readonly jobId: string;
  readonly status: ExportJobStatus | 'NOT_STARTED';
  readonly jobName?: string;
  readonly message?: string;
  readonly submitTime?: string;
  readonly endTime?: string;
  readonly outputS3Uri?: string;
  /** ms since submit at the last Describe (export jobs report no progress counts). */
  readonly elapsedMs?: number;
  /** Describe calls made so far for this export. */
  readonly describeCalls: number;
  /** ISO instant of the last Describe that answered. */
  readonly lastPolledAt?: string;
}

/** Failure `type`s of the export workflow (AWS error names pass through as their own types). */
export const ExportFailureType = {
  /** Input failed validation before any activity ran. */
  InvalidFhirExportInput: 'InvalidFhirExportInput',
  /** The job ended FAILED; the message carries HealthLake's Message. */
  HealthLakeExportFailed: 'HealthLakeExportFailed',
  /** The job ended CANCEL_COMPLETED or CANCEL_FAILED. */
  HealthLakeExportCancelled: 'HealthLakeExportCancelled',
  /** HealthLake answered a status the table does not list. */
  UnknownExportJobStatus: 'UnknownExportJobStatus',
  /** The workflow was cancelled while the job ran (the job keeps running). */
  ExportWaitCancelled: 'ExportWaitCancelled',
  /** Not a failure: the wait asking Temporal to call it again later (BENIGN). */
  ExportJobStillRunning: 'ExportJobStillRunning',
} as const;
export type ExportFailureType = (typeof ExportFailureType)[keyof typeof ExportFailureType];

/** The workflow id of an export keyed by the caller: the same key always names the same export. */
export function fhirExportWorkflowId(callerKey: string): string {
  return `fhir-export-${callerKey}`;
}

/**
 * What the UI shows for an export before it has run a line of code: pass both as the start
 * options' `staticSummary` / `staticDetails` (as `importStaticSummary` does for imports).
 *
 * @example
 * await client.workflow.start(fhirExportWorkflow, { workflowId: fhirExportWorkflowId(key),
 *   taskQueue, args: [input], ...exportStaticSummary(input) });
 */
export function exportStaticSummary(input: FhirExportInput): {
  staticSummary: string;
  staticDetails: string;
} {
  const staticSummary = `HealthLake export from ${input.datastoreId}`.slice(0, 200);
  const staticDetails = [
    `**HealthLake FHIR export** from data store \`${input.datastoreId}\``,
    '',
    `- output: \`${input.outputS3Uri}\``,
    `- job name: ${input.jobName ?? '(from the workflow id)'}`,
    `- count the output: ${input.countOutput === false ? 'no' : 'yes'}`,
  ].join('\n');
  return { staticSummary, staticDetails };
}
