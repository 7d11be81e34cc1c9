// The import workflow's public contract: input, result, progress, query, search-attribute keys and
// failure type names. Clients, workers and other workflows import this module without loading
// workflow or activity code (it has no I/O and no Temporal worker dependency).
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import type { LandingManifestOrRef } from './manifest';

/**
 * HealthLake's `JobStatus`, mirrored here because workflow code must not load `@aws-sdk/*`.
 * Kept equal to the SDK's enum by a type test (test/classify-import-status.test.ts).
 */
export const ImportJobStatus = {
  SUBMITTED: 'SUBMITTED',
  QUEUED: 'QUEUED',
  IN_PROGRESS: 'IN_PROGRESS',
  COMPLETED: 'COMPLETED',
  COMPLETED_WITH_ERRORS: 'COMPLETED_WITH_ERRORS',
  FAILED: 'FAILED',
  CANCEL_SUBMITTED: 'CANCEL_SUBMITTED',
  CANCEL_IN_PROGRESS: 'CANCEL_IN_PROGRESS',
  CANCEL_COMPLETED: 'CANCEL_COMPLETED',
  CANCEL_FAILED: 'CANCEL_FAILED',
} as const;
export type ImportJobStatus = (typeof ImportJobStatus)[keyof typeof ImportJobStatus];

/** HealthLake's `ValidationLevel` for imports. */
export const ValidationLevel = {
  STRICT: 'strict',
  STRUCTURE_ONLY: 'structure-only',
  MINIMAL: 'minimal',
} as const;
export type ValidationLevel = (typeof ValidationLevel)[keyof typeof ValidationLevel];

/**
 * How often the job is described. Delays grow from `minDelayMs` by `multiplier` for every poll
 * that sees no change, up to `maxDelayMs`, and drop back to `minDelayMs` when the report moves.
 * Defaults are tuned for production: HealthLake allows about 10 Describe/List calls per second per
 * account, and imports run for minutes to hours. Tests pass millisecond values.
 */
export interface PollPolicy {
  /** Wait before the first Describe after the job starts, in ms. @default 5_000 */
  readonly initialDelayMs: number;
  /** Floor: shortest wait between two Describe calls, in ms. @default 5_000 */
  readonly minDelayMs: number;
  /** Cap: longest wait between two Describe calls, in ms. @default 60_000 */
  readonly maxDelayMs: number;
  /** Growth of the wait per poll that saw no change. @default 2 */
  readonly multiplier: number;
  /** Fraction of the wait removed at random (0 = none, 0.2 = up to 20 % shorter). @default 0.2 */
  readonly jitter: number;
  /** Wait while the job is QUEUED behind another import on the data store, in ms. @default 60_000 */
  readonly queuedDelayMs: number;
  /** Time one wait-activity attempt may take before Temporal retries it, in ms. @default 30_000 */
  readonly attemptTimeoutMs: number;
  /**
   * Waits shorter than this happen inside the activity attempt (a heartbeating sleep); longer ones
   * go back to the server as a retry with `nextRetryDelay`, which frees the worker slot and is
   * rate-limited per task queue but has a granularity of about 1 s on a default server (measured:
   * see activities/README.md). With the defaults (5 s floor) every wait is a server retry.
   * @default 1_000
   */
  readonly inAttemptWaitMaxMs: number;
  /**
   * Returns to the workflow with fresh counts (its `progress` query, UI current details) at most
   * this many times per status besides status changes, log-spaced in time: after
   * `progressIntervalMs`, then 12× as long again, and so on (each return costs 6 history events: a
   * 2-hour import makes one at the defaults, 37 events; at most 2 keep any import at 43). The live counts between returns are in the wait's
   * heartbeat (`readImportProgress`, the UI's pending activity). @default 2
   */
  readonly maxProgressMilestones: number;
  /**
   * HealthLake refreshes `JobProgressReport` on its own schedule (undocumented; assumed 30 s): after
   * a Describe that saw the counts move, the next one waits at least this long, since an earlier
   * one could only read the same report. Status changes are not bound to it (QUEUED, SUBMITTED and
   * the end near a known ETA keep the floor). @default 30_000
   */
  readonly reportRefreshMs?: number;
  /**
   * With a known total (a manifest's `totalBytes`), the wait is this fraction of the remaining ETA
   * (re-estimated on every Describe), capped at `progressIntervalMs`: few polls while the end is
   * far, dense ones (down to the floor) near it. @default 0.5
   */
  readonly etaFraction?: number;
  /**
   * How stale the live counts may get for people while a known ETA is far: the longest wait between
   * two Describes in that case, and the first time a status's counts go back to the workflow (see
   * `maxProgressMilestones`). Without a known total the wait is capped by `maxDelayMs` instead (the
   * end may come at any poll). 10 min: with a known total the far-from-the-end polls are
   * length / `progressIntervalMs`, so at 5 min a 2-hour import cost 0.7x the AWS waiter's calls
   * (measured, `npm run bench -- polling`) and 10 min makes it under half. @default 600_000
   */
  readonly progressIntervalMs?: number;
  /**
   * While HealthLake's EventBridge job events reach the import (`healthLakeJobEventSignal`, sent
   * by the event relay), polling is only a safety net: the wait's first Describe comes this long
   * after the last change and later ones back off by `multiplier` up to 12 times it; with a known
   * total the next one comes after the expected end (1.5× the remaining ETA). Without events
   * (no relay, no rule) the normal schedule above applies. @default 600_000
   */
  readonly eventSafetyNetDelayMs?: number;
  /**
   * For callers that run the event relay: before the first Describe, wait up to this long for the
   * job's first event (one timer). When it comes, the wait starts on the safety net without any
   * Describe; when it does not, the first Describe comes `initialDelayMs` after the start as
   * without it. An attached import (`existingJobId`) waits the same way after its attach Describe.
   * @default none (the first Describe is not held back)
   */
  readonly awaitFirstEventMs?: number;
}

/** Production defaults of {@link PollPolicy}. */
export const DEFAULT_POLL_POLICY: PollPolicy = {
  initialDelayMs: 5_000,
  minDelayMs: 5_000,
  maxDelayMs: 60_000,
  multiplier: 2,
  jitter: 0.2,
  queuedDelayMs: 60_000,
  attemptTimeoutMs: 30_000,
  inAttemptWaitMaxMs: 1_000,
  maxProgressMilestones: 2,
  reportRefreshMs: 30_000,
  etaFraction: 0.5,
  progressIntervalMs: 600_000,
};

/**
 * What to do with COMPLETED_WITH_ERRORS. The error rate is resources with a customer error divided
 * by resources scanned (0..1).
 */
export type CompletedWithErrorsPolicy =
  | { readonly mode: 'succeed-with-warnings' }
  | {
      readonly mode: 'fail-above-error-rate';
      /** Highest tolerated error rate, 0..1 (0 fails on any error). */
      readonly maxErrorRate: number;
    };

/** Input of {@link FhirImportResult}'s workflow, `fhirImportWorkflow`. One object, all JSON. */
export interface FhirImportInput {
  /** HealthLake data store id (32 hex chars on AWS). */
  readonly datastoreId: string;
  /** Prefix holding the `.ndjson` files, `s3://<bucket>/<prefix>`. */
  readonly inputS3Uri: string;
  /** Where HealthLake writes SUCCESS/FAILURE files and manifest.json, `s3://<bucket>/<prefix>`. */
  readonly outputS3Uri: string;
  /** KMS key id, key ARN or `alias/...` for the output. */
  readonly kmsKeyId: string;
  /** `arn:aws:iam::<account>:role/<name>` that HealthLake assumes to read and write S3. */
  readonly dataAccessRoleArn: string;
  /**
   * Readable part of the HealthLake job name (1-64 characters). The name HealthLake gets always ends
   * with `-` and a 16-hex tag of this import's identity (namespace + workflow id), and the readable
   * part is cut to 47 characters to fit: two imports with the same `jobName` get two jobs, while
   * retries and re-runs under the same caller key find their own. `FhirImportResult.jobName` shows
   * the name HealthLake holds.
   * @default the workflow id, with characters HealthLake refuses replaced by `-`
   */
  readonly jobName?: string;
  /** @default HealthLake's default (not sent) */
  readonly validationLevel?: ValidationLevel;
  /** Overrides of {@link PollPolicy}. @default {@link DEFAULT_POLL_POLICY} */
  readonly pollPolicy?: Partial<PollPolicy>;
  /**
   * Wall-clock deadline as an ISO-8601 instant, covering the start and the wait; past it the
   * workflow fails with `HealthLakeImportDeadlineExceeded` (a job keeps running in HealthLake; a
   * re-run under the same caller key reattaches to it). Survives restarts.
   * @default none
   */
  readonly deadline?: string;
  /** @default { mode: 'succeed-with-warnings' } */
  readonly completedWithErrors?: CompletedWithErrorsPolicy;
  /** Attach to a job started elsewhere instead of starting one. @default start a new job */
  readonly existingJobId?: string;
  /**
   * What the landing step put under `inputS3Uri` (workflows/manifest.ts): gives percent complete,
   * ETA and end-of-job reconciliation. Inline, or (what our landing passes) a reference to the
   * manifest in S3 with the totals: the import uses only the totals. @default none
   */
  readonly manifest?: LandingManifestOrRef;
  /**
   * With a manifest: `report` puts mismatches in the result; `strict` fails the workflow with
   * `HealthLakeImportReconciliationMismatch`. @default 'report'
   */
  readonly reconciliation?: 'report' | 'strict';
  /**
   * Task queue of the HealthLake API activities (start, describe). All imports of one AWS account
   * should share it: its worker's `maxTaskQueueActivitiesPerSecond` is the account's Describe budget.
   * Leave it unset: the workflow asks the worker that runs it (`createHealthLakeWorker`'s
   * `apiTaskQueue`, `HEALTHLAKE_API_TASK_QUEUE`). Set or not, if no worker polls the queue the
   * import warns (UI current details, log) and then fails `HealthLakeApiTaskQueueNotPolled`.
   * @default the API task queue of the worker running the workflow (imports started before this
   *   rule: `<workflow task queue>` + {@link HEALTHLAKE_API_TASK_QUEUE_SUFFIX})
   */
  readonly apiTaskQueue?: string;
  /**
   * Temporal task-queue fairness key of this import's HealthLake API activities
   * (`priority.fairnessKey`, 1-64 ASCII characters): the API queue dispatches keys round-robin, so
   * one tenant's thousand imports do not starve another's one. Pass a tenant id to share fairly
   * between tenants rather than data stores. Needs fairness on the server (see workflows/README.md);
   * without it the key is ignored.
   * @default the data store id
   */
  readonly fairnessKey?: string;
}

/** Every `JobProgressReport` count, in our names (AWS names in the TSDoc). */
export interface ImportJobCounts {
  /** TotalNumberOfScannedFiles */
  readonly scannedFiles: number;
  /** TotalSizeOfScannedFilesInMB */
  readonly scannedMb: number;
  /** TotalNumberOfImportedFiles */
  readonly importedFiles: number;
  /** TotalNumberOfResourcesScanned */
  readonly resourcesScanned: number;
  /** TotalNumberOfResourcesImported */
  readonly resourcesImported: number;
  /** TotalNumberOfResourcesWithCustomerError */
  readonly resourcesWithCustomerError: number;
  /** TotalNumberOfFilesReadWithCustomerError */
  readonly filesReadWithCustomerError: number;
  /** Throughput as HealthLake reports it (MB/s per the 2024 API docs). */
  readonly throughput: number;
}

/**
 * Live progress of one import: heartbeated by the describe activity (pending activity details in
 * the UI) and held by the workflow (`progress` query). Counts and ids only, never resource content.
 */
export interface FhirImportProgress {
  readonly datastoreId: string;
  /** Absent until the job is started or attached. */
  readonly jobId?: string;
  /** `NOT_STARTED` before the start activity returns. */
  readonly status: ImportJobStatus | 'NOT_STARTED';
  readonly counts: ImportJobCounts;
  /** 0..100, when a manifest gives the total bytes. */
  readonly percent?: number;
  /** Estimated remaining time in ms, when a total is known and the job has moved. */
  readonly etaMs?: number;
  /** Describe calls made so far for this job (attempts, throttled ones included). */
  readonly describeCalls: number;
  /** ISO instant of the last change of status or counts. */
  readonly lastChangeAt?: string;
  /** ISO instant of the last Describe that answered. */
  readonly lastPolledAt?: string;
  /** HealthLake's EventBridge job events this import received; absent when none arrived. */
  readonly jobEvents?: ImportJobEventsView;
}

/** What job events did for an import (see `healthLakeJobEventSignal`). */
export interface ImportJobEventsView {
  /** Events received for this job, duplicates and late ones included. */
  readonly received: number;
  /** The newest status an event announced. */
  readonly lastStatus: ImportJobStatus;
  /** How the end was found: an event woke the wait (`event`), or a Describe found it first (`poll`). */
  readonly detectedBy?: 'event' | 'poll';
  /** ISO instant (workflow time) at which the import saw the terminal status. */
  readonly detectedAt?: string;
  /**
   * True once polling went back to the normal schedule: a Describe found a change no event had
   * announced (the relay, the rule or its target stopped delivering).
   */
  readonly fellBackToPolling?: boolean;
}

/**
 * What the describe activity heartbeats (and resumes from after a worker dies). The UI shows it as
 * the pending activity's details; `client/` decodes it for live progress.
 */
export interface ImportJobHeartbeat {
  /** Includes `describeCalls`, the Describe calls made so far for this import. */
  readonly progress: FhirImportProgress;
  /**
   * `describeCalls` when the backoff last restarted: the status changed (count changes no longer
   * restart it; before that change, they did). Polls since = the difference.
   */
  readonly describeCallsAtChange: number;
  /** `describeCalls` when a known ETA first came within the floor (the end is due: back off from there). */
  readonly describeCallsAtEtaDue?: number;
  /** Activity attempt that sent this heartbeat (later attempts made one Describe each). */
  readonly attempt?: number;
  /** ISO instant the job was first seen IN_PROGRESS (the ETA's pace starts there). */
  readonly inProgressSince?: string;
}

/** Manifest vs. job counts at the end (only with `input.manifest`). */
export interface ImportReconciliation {
  readonly filesLanded: number;
  readonly filesScanned: number;
  readonly linesLanded: number;
  readonly resourcesScanned: number;
  readonly resourcesImported: number;
  readonly resourcesWithCustomerError: number;
  /** One sentence per mismatch; empty when everything adds up. */
  readonly mismatches: readonly string[];
}

/** What `fhirImportWorkflow` returns. */
export interface FhirImportResult {
  readonly jobId: string;
  readonly datastoreId: string;
  readonly jobName?: string;
  readonly status: 'COMPLETED' | 'COMPLETED_WITH_ERRORS';
  readonly progress: FhirImportProgress;
  /** HealthLake's job `Message`, when it gave one. */
  readonly message?: string;
  /** `<outputS3Uri>/<datastoreId>-FHIR_IMPORT-<jobId>/` */
  readonly outputFolderS3Uri: string;
  /** `<outputFolderS3Uri>manifest.json` */
  readonly manifestS3Uri: string;
  /** ISO instants from HealthLake. */
  readonly submitTime: string;
  readonly endTime?: string;
  /** endTime − submitTime in ms (or until the workflow saw the end, when EndTime is absent). */
  readonly durationMs: number;
  readonly describeCalls: number;
  /** resourcesWithCustomerError / resourcesScanned, 0 when nothing was scanned. */
  readonly errorRate: number;
  /** Warnings such as "COMPLETED_WITH_ERRORS: 3 of 120 resources failed". */
  readonly warnings: readonly string[];
  readonly reconciliation?: ImportReconciliation;
}

/** `handle.query(progressQuery)`: the workflow's view (refreshed on status changes and milestones). */
export const progressQuery = defineQuery<FhirImportProgress>('progress');

/** Search attributes the import upserts. Register them on the server (see {@link importSearchAttributes}). */
export const HealthLakeDatastoreId = defineSearchAttributeKey(
  'HealthLakeDatastoreId',
  SearchAttributeType.KEYWORD,
);
export const HealthLakeJobId = defineSearchAttributeKey('HealthLakeJobId', SearchAttributeType.KEYWORD);
export const HealthLakeJobStatus = defineSearchAttributeKey(
  'HealthLakeJobStatus',
  SearchAttributeType.KEYWORD,
);

/** The keys as a list, e.g. for `temporal operator search-attribute create`. */
export const IMPORT_SEARCH_ATTRIBUTE_KEYS = [
  HealthLakeDatastoreId,
  HealthLakeJobId,
  HealthLakeJobStatus,
] as const;

/**
 * The same, in `temporal server start-dev --search-attribute Name=Type` spelling; pass it as
 * `startTemporalDevServer({ searchAttributes: importSearchAttributes })`.
 */
export const importSearchAttributes = {
  HealthLakeDatastoreId: 'Keyword',
  HealthLakeJobId: 'Keyword',
  HealthLakeJobStatus: 'Keyword',
} as const satisfies Record<string, 'Keyword'>;

/** Failure `type`s the import workflow and its activities raise. */
export const ImportFailureType = {
  /** Input failed validation before any activity ran. Non-retryable. */
  InvalidFhirImportInput: 'InvalidFhirImportInput',
  /** The job ended FAILED; details carry the job's Message and last progress. */
  HealthLakeImportFailed: 'HealthLakeImportFailed',
  /** The job ended CANCEL_COMPLETED or CANCEL_FAILED. */
  HealthLakeImportCancelled: 'HealthLakeImportCancelled',
  /** COMPLETED_WITH_ERRORS above `completedWithErrors.maxErrorRate`. */
  HealthLakeImportErrorRateExceeded: 'HealthLakeImportErrorRateExceeded',
  /** `input.deadline` passed while the job was still running (it keeps running). */
  HealthLakeImportDeadlineExceeded: 'HealthLakeImportDeadlineExceeded',
  /** Strict reconciliation found the job's counts differ from the manifest. */
  HealthLakeImportReconciliationMismatch: 'HealthLakeImportReconciliationMismatch',
  /**
   * The workflow was cancelled while the job still ran: the wait stopped, the job did not
   * (HealthLake cannot cancel an import). Details carry the job id and last progress.
   */
  ImportWaitCancelled: 'ImportWaitCancelled',
  /** HealthLake answered a status this code does not know: an error, never "keep waiting". */
  UnknownImportJobStatus: 'UnknownImportJobStatus',
  /** `existingJobId` (or a job found by name) belongs to another data store or other S3 locations. */
  ImportJobMismatch: 'ImportJobMismatch',
  /** AWS errors that fail at once (the AWS name is the type). */
  ValidationException: 'ValidationException',
  AccessDeniedException: 'AccessDeniedException',
  ResourceNotFoundException: 'ResourceNotFoundException',
  ConflictException: 'ConflictException',
  /** AWS errors that are retried with backoff. */
  ThrottlingException: 'ThrottlingException',
  InternalServerException: 'InternalServerException',
  /** Not a failure: the describe activity asking Temporal to call it again later (BENIGN). */
  ImportJobStillRunning: 'ImportJobStillRunning',
  /**
   * No worker polled the HealthLake API task queue (a typo in `input.apiTaskQueue`, API workers on
   * another queue, none running) for the worker's bound. Details: {@link ApiTaskQueueNotPolledDetails}.
   */
  HealthLakeApiTaskQueueNotPolled: 'HealthLakeApiTaskQueueNotPolled',
} as const;
export type ImportFailureType = (typeof ImportFailureType)[keyof typeof ImportFailureType];

/** AWS error names that must never be retried (a retry policy's `nonRetryableErrorTypes`). */
export const NON_RETRYABLE_IMPORT_FAILURE_TYPES: readonly ImportFailureType[] = [
  ImportFailureType.InvalidFhirImportInput,
  ImportFailureType.ValidationException,
  ImportFailureType.AccessDeniedException,
  ImportFailureType.ResourceNotFoundException,
  ImportFailureType.ConflictException,
  ImportFailureType.UnknownImportJobStatus,
  ImportFailureType.ImportJobMismatch,
  ImportFailureType.HealthLakeImportFailed,
  ImportFailureType.HealthLakeImportCancelled,
  ImportFailureType.HealthLakeImportErrorRateExceeded,
  ImportFailureType.HealthLakeImportDeadlineExceeded,
  ImportFailureType.HealthLakeImportReconciliationMismatch,
  ImportFailureType.ImportWaitCancelled,
];

/** Suffix of the default HealthLake API task queue (see `FhirImportInput.apiTaskQueue`). */
export const HEALTHLAKE_API_TASK_QUEUE_SUFFIX = '-healthlake-api';

/**
 * What the worker running an import answers about the HealthLake API task queue (the local activity
 * `healthLakeApiTaskQueue`, registered by `createWorkerActivities`). Recorded in history.
 */
export interface ApiTaskQueuePairing {
  /** The queue the import schedules HealthLake activities on. */
  readonly apiTaskQueue: string;
  /** Activity pollers the server reports on it; absent when the server could not be asked. */
  readonly pollers?: number;
  /** Fail after no poller was seen for this long, in ms; 0 only warns. */
  readonly unpolledFailAfterMs: number;
  /** Pause between two checks while no poller is seen, in ms. */
  readonly checkIntervalMs: number;
}

/** The worker-side local activity behind {@link ApiTaskQueuePairing}. */
export interface ApiTaskQueueActivities {
  /** `apiTaskQueue`: the input's override, checked for pollers; absent: the worker's own API queue. */
  healthLakeApiTaskQueue(request: { readonly apiTaskQueue?: string }): Promise<ApiTaskQueuePairing>;
}

/** Details of the `HealthLakeApiTaskQueueNotPolled` failure. */
export interface ApiTaskQueueNotPolledDetails {
  readonly apiTaskQueue: string;
  /** How long no poller was seen, in ms. */
  readonly unpolledForMs: number;
}

/**
 * The workflow id for an import keyed by the caller (a pipeline run, a landing batch): the same
 * key always names the same import, so a retried caller attaches instead of starting a second one.
 */
export function fhirImportWorkflowId(callerKey: string): string {
  return `fhir-import-${callerKey}`;
}

/**
 * What the UI shows for an import before it has run a line of code: pass both as the start
 * options' `staticSummary` / `staticDetails` (the client helper and the pipeline do).
 */
export function importStaticSummary(input: FhirImportInput): {
  staticSummary: string;
  staticDetails: string;
} {
  const job = input.existingJobId === undefined ? 'new job' : `attach to job ${input.existingJobId}`;
  const staticSummary = `HealthLake import into ${input.datastoreId} (${job})`.slice(0, 200);
  const staticDetails = [
    `**HealthLake FHIR import** into data store \`${input.datastoreId}\``,
    '',
    `- input: \`${input.inputS3Uri}\``,
    `- output: \`${input.outputS3Uri}\``,
    `- validation level: ${input.validationLevel ?? 'HealthLake default'}`,
    `- deadline: ${input.deadline ?? 'none'}`,
    input.manifest === undefined
      ? '- no landing manifest (no percent/ETA)'
      : `- landing manifest: ${input.manifest.totalObjects} files, ${input.manifest.totalBytes} bytes, ${input.manifest.totalLines} lines`,
  ].join('\n');
  return { staticSummary, staticDetails };
}

/** Details of the `ImportWaitCancelled` and `HealthLakeImportDeadlineExceeded` failures. */
export interface ImportAbandonedDetails {
  readonly datastoreId: string;
  readonly jobId?: string;
  readonly progress: FhirImportProgress;
}
