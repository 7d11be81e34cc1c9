// The durable FHIR export: validate, start (or find) one HealthLake export job exactly once, wait
// for a terminal status on the shared polling engine (one Describe per activity attempt, history
// bounded), count what the export wrote per resource type, and return a typed result or failure.
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { defineQuery } from '@temporalio/workflow';
import type { ExportActivities } from '../activities/export';
import type { JobOutputActivities } from '../activities/job-output';
import {
  EXPORT_JOB_OUTCOMES,
  ExportFailureType,
  type ExportJobStatus,
  type ExportJobView,
  type ExportOutputCounts,
  type FhirExportInput,
  type FhirExportResult,
} from './export-types';
import { defaultJobName } from './import';
import {
  healthLakeApiActivityOptions,
  invalidInputFailure,
  surfaceActivityFailure,
  trimSlash,
  validateWithImportRules,
} from './lifecycle-common';
import { classifyStatus, StatusOutcome } from './status-table';
import { HealthLakeDatastoreId, HealthLakeJobId, HealthLakeJobStatus } from './types';

/** `handle.query(exportProgressQuery)`: the workflow's view of the export job. */
export const exportProgressQuery = defineQuery<ExportJobView>('progress');

const EXPORT_INPUT_FIELDS = [
  'datastoreId',
  'outputS3Uri',
  'kmsKeyId',
  'dataAccessRoleArn',
  'jobName',
  'pollPolicy',
  'countOutput',
  'apiTaskQueue',
] as const;

/** Failure types the export's activities must not retry. */
const NON_RETRYABLE_EXPORT_TYPES: readonly string[] = [
  ExportFailureType.InvalidFhirExportInput,
  ExportFailureType.HealthLakeExportFailed,
  ExportFailureType.HealthLakeExportCancelled,
  ExportFailureType.UnknownExportJobStatus,
  'InvalidS3Uri',
];

/** Attempts of the output count (S3 errors that are retryable: throttling, 5xx, network). */
const COUNT_OUTPUT_MAXIMUM_ATTEMPTS = 5;

function renderDetails(view: ExportJobView): string {
  const rows: Array<[string, string]> = [
    ['status', view.status],
    ['job', view.jobId || '(not started)'],
    ['submitted', view.submitTime ?? '-'],
    ['elapsed', view.elapsedMs === undefined ? '-' : `${Math.round(view.elapsedMs / 1000)} s`],
    ['Describe calls', String(view.describeCalls)],
  ];
  return [
    `**HealthLake export** of data store \`${view.datastoreId}\``,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
  ].join('\n');
}

/**
 * Exports a HealthLake data store to S3 as one durable workflow.
 *
 * Validates the input (the import's rules for the shared fields); starts the job exactly once
 * (a ClientToken from the workflow identity plus a lookup by job name before any start); waits on
 * the HealthLake API task queue with the same engine as the import (export jobs report no
 * progress: the heartbeat and UI show status and elapsed time); after COMPLETED counts the files,
 * bytes and resources per resource type in the output folder (`countOutput`, on the workflow's task
 * queue, which needs an S3 client). FAILED fails `HealthLakeExportFailed` with HealthLake's
 * message; CANCEL_COMPLETED / CANCEL_FAILED fail `HealthLakeExportCancelled`; a workflow cancel
 * fails `ExportWaitCancelled` naming the job (which keeps running).
 */
export async function fhirExportWorkflow(rawInput: FhirExportInput): Promise<FhirExportResult> {
  try {
    return await runExport(rawInput);
  } catch (err) {
    throw surfaceActivityFailure(err);
  }
}

async function runExport(rawInput: FhirExportInput): Promise<FhirExportResult> {
  const info = workflowInfo();
  const { problems, pollPolicy } = validateWithImportRules(
    rawInput,
    'FhirExportInput',
    EXPORT_INPUT_FIELDS,
    ['datastoreId', 'outputS3Uri', 'kmsKeyId', 'dataAccessRoleArn', 'jobName', 'pollPolicy', 'apiTaskQueue'],
    info.startTime.getTime(),
  );
  if (rawInput?.countOutput !== undefined && typeof rawInput.countOutput !== 'boolean') {
    problems.push({
      field: 'countOutput',
      message: `input.countOutput (${typeof rawInput.countOutput}) must be a boolean`,
    });
  }
  if (problems.length > 0 || pollPolicy === undefined) {
    throw invalidInputFailure('FhirExportInput', ExportFailureType.InvalidFhirExportInput, problems);
  }
  const input = rawInput;
  const policy = pollPolicy;
  const options = healthLakeApiActivityOptions(
    info.taskQueue,
    input.apiTaskQueue,
    policy,
    NON_RETRYABLE_EXPORT_TYPES,
  );
  const healthLake = proxyActivities<ExportActivities>(options);

  let view: ExportJobView = {
    datastoreId: input.datastoreId,
    jobId: '',
    status: 'NOT_STARTED',
    describeCalls: 0,
  };
  setHandler(exportProgressQuery, () => view);
  setCurrentDetails(renderDetails(view));
  const apply = (next: ExportJobView): void => {
    const statusChanged = next.status !== view.status;
    view = next;
    if (statusChanged) upsertSearchAttributes([{ key: HealthLakeJobStatus, value: view.status }]);
    setCurrentDetails(renderDetails(view));
  };

  // 1. Start or find. Not cancellable: a cancel while StartFHIRExportJob is in flight would lose
  // the id of a job HealthLake may already have accepted.
  const started = await CancellationScope.nonCancellable(async () => {
    const start = await healthLake.startExportJob({
      datastoreId: input.datastoreId,
      outputS3Uri: input.outputS3Uri,
      kmsKeyId: input.kmsKeyId,
      dataAccessRoleArn: input.dataAccessRoleArn,
      jobName: input.jobName ?? defaultJobName(info.workflowId),
      identity: `${info.namespace}/${info.workflowId}/${info.firstExecutionRunId}`,
      notBefore: info.startTime.toISOString(),
    });
    // A found job may already have ended: describe it once for its status, message and times.
    if (
      start.how === 'found' ||
      classifyStatus(EXPORT_JOB_OUTCOMES, start.status) !== StatusOutcome.waiting
    ) {
      return await healthLake.describeExportJob({ datastoreId: input.datastoreId, jobId: start.jobId });
    }
    return { ...view, jobId: start.jobId, status: start.status as ExportJobStatus };
  });
  const jobId = started.jobId;
  view = started;
  upsertSearchAttributes([
    { key: HealthLakeDatastoreId, value: input.datastoreId },
    { key: HealthLakeJobId, value: jobId },
    { key: HealthLakeJobStatus, value: view.status },
  ]);
  setCurrentDetails(renderDetails(view));
  const cancelled = (cause?: Error): ApplicationFailure =>
    ApplicationFailure.create({
      message: `workflow cancelled while export job ${jobId} was ${view.status}; the job keeps running in HealthLake`,
      type: ExportFailureType.ExportWaitCancelled,
      nonRetryable: true,
      details: [view],
      ...(cause === undefined ? {} : { cause }),
    });
  if (CancellationScope.current().consideredCancelled) throw cancelled();

  // 2. Wait for a terminal status.
  try {
    let first = true;
    while (classifyStatus(EXPORT_JOB_OUTCOMES, view.status) === StatusOutcome.waiting) {
      const knownStatus = view.status;
      const firstDelayMs = first
        ? policy.initialDelayMs
        : knownStatus === 'QUEUED'
          ? policy.queuedDelayMs
          : policy.minDelayMs;
      first = false;
      apply(
        await proxyActivities<ExportActivities>({
          ...options,
          summary: `wait for export job ${jobId} to leave ${knownStatus}`,
        }).awaitExportJobChange({
          datastoreId: input.datastoreId,
          jobId,
          knownStatus,
          pollPolicy: policy,
          firstDelayMs,
          lastView: view,
        }),
      );
    }
  } catch (err) {
    if (isCancellation(err)) throw cancelled(err as Error);
    throw err;
  }

  // 3. Terminal handling.
  const outcome = classifyStatus(EXPORT_JOB_OUTCOMES, view.status);
  const details = [view];
  if (outcome === StatusOutcome.failed) {
    throw ApplicationFailure.create({
      message: `export job ${jobId} FAILED: ${view.message ?? 'HealthLake gave no message'}`,
      type: ExportFailureType.HealthLakeExportFailed,
      nonRetryable: true,
      details,
    });
  }
  if (outcome === StatusOutcome.cancelled) {
    throw ApplicationFailure.create({
      message: `export job ${jobId} ended ${view.status}${view.message ? `: ${view.message}` : ''}`,
      type: ExportFailureType.HealthLakeExportCancelled,
      nonRetryable: true,
      details,
    });
  }
  if (outcome !== StatusOutcome.done) {
    throw ApplicationFailure.create({
      message: `export job ${jobId} reported status "${view.status}", which this workflow does not know`,
      type: ExportFailureType.UnknownExportJobStatus,
      nonRetryable: true,
      details,
    });
  }
  const outputFolderS3Uri = `${trimSlash(view.outputS3Uri ?? input.outputS3Uri)}/${input.datastoreId}-FHIR_EXPORT-${jobId}/`;
  let output: ExportOutputCounts | undefined;
  if (input.countOutput !== false) {
    setCurrentDetails(`${renderDetails(view)}\n\nCounting the output in \`${outputFolderS3Uri}\``);
    output = await proxyActivities<JobOutputActivities>({
      startToCloseTimeout: '30 minutes',
      retry: { maximumAttempts: COUNT_OUTPUT_MAXIMUM_ATTEMPTS, nonRetryableErrorTypes: ['InvalidS3Uri'] },
    }).countExportOutput({ outputFolderS3Uri });
    setCurrentDetails(
      `${renderDetails(view)}\n\nExported ${output.resources} resources in ${output.files} files (${Object.keys(output.byType).length} resource types)`,
    );
  }
  const submitMs = view.submitTime === undefined ? new Date().getTime() : Date.parse(view.submitTime);
  const endMs = view.endTime === undefined ? new Date().getTime() : Date.parse(view.endTime);
  return {
    jobId,
    datastoreId: input.datastoreId,
    ...(view.jobName === undefined ? {} : { jobName: view.jobName }),
    status: view.status as 'COMPLETED' | 'COMPLETED_WITH_ERRORS',
    ...(view.message === undefined ? {} : { message: view.message }),
    outputFolderS3Uri,
    submitTime: new Date(submitMs).toISOString(),
    ...(view.endTime === undefined ? {} : { endTime: view.endTime }),
    durationMs: Math.max(0, endMs - submitMs),
    describeCalls: view.describeCalls,
    ...(output === undefined ? {} : { output }),
  };
}
