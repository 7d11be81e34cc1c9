// Activities of the example downstream workflow: read HealthLake's import output (manifest.json and
// the FAILURE files) to verify the import, then run an export and count what it wrote. Counts only.
import {
  DescribeFHIRExportJobCommand,
  StartFHIRExportJobCommand,
  type HealthLakeClient,
} from '@aws-sdk/client-healthlake';
import type { S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { awsErrorToFailure } from '../activities/aws-errors';
import { importClientToken } from '../activities/import';
import { classifyImportStatus } from '../workflows/import-status';
import { joinS3Key, listObjects, parseS3Uri, readObjectLines } from '../activities/s3';

export interface VerifyAndExportDeps {
  readonly s3: S3Client;
  readonly healthLake: HealthLakeClient;
}

/** HealthLake's import `manifest.json` counts, plus the lines found in its FAILURE files. */
export interface ImportOutputCounts {
  readonly numberOfScannedFiles: number;
  readonly numberOfFilesImported: number;
  readonly numberOfResourcesScanned: number;
  readonly numberOfResourcesImportedSuccessfully: number;
  readonly numberOfResourcesWithCustomerError: number;
  readonly failureLines: number;
}

export interface ExportOutcome {
  readonly jobId: string;
  readonly status: string;
  readonly outputFolderS3Uri: string;
  readonly exportedResources: number;
  readonly files: number;
}

/** Failure types of the export activity (all non-retryable: the job has ended, or speaks a status we do not know). */
export const ExportFailureType = {
  ExportJobFailed: 'ExportJobFailed',
  ExportJobCancelled: 'ExportJobCancelled',
  ExportJobStatusUnknown: 'ExportJobStatusUnknown',
} as const;
export type ExportFailureType = (typeof ExportFailureType)[keyof typeof ExportFailureType];

/** What an export job status means for the waiting activity. */
export type ExportStatusOutcome =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'completed' }
  | { readonly kind: 'fail'; readonly type: ExportFailureType };

/**
 * Classifies an export `JobStatus` (the same enum as imports, so it reads `classifyImportStatus`):
 * SUBMITTED, QUEUED, IN_PROGRESS and CANCEL_SUBMITTED/CANCEL_IN_PROGRESS keep waiting; COMPLETED and
 * COMPLETED_WITH_ERRORS are done; FAILED and CANCEL_COMPLETED/CANCEL_FAILED fail; a missing or
 * unknown status fails too — never "keep waiting" on a status we do not know.
 */
export function classifyExportStatus(status: string | undefined): ExportStatusOutcome {
  if (status === undefined) return { kind: 'fail', type: ExportFailureType.ExportJobStatusUnknown };
  switch (classifyImportStatus(status).kind) {
    case 'waiting':
      return { kind: 'waiting' };
    case 'completed':
    case 'completed-with-errors':
      return { kind: 'completed' };
    case 'failed':
      return { kind: 'fail', type: ExportFailureType.ExportJobFailed };
    case 'cancelled':
      return { kind: 'fail', type: ExportFailureType.ExportJobCancelled };
    case 'unknown':
      return { kind: 'fail', type: ExportFailureType.ExportJobStatusUnknown };
  }
}

async function countLines(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ lines: number; files: number }> {
  let lines = 0;
  const objects = (await listObjects(s3, bucket, prefix)).filter((o) => o.key.endsWith('.ndjson'));
  for (const object of objects) {
    for await (const line of readObjectLines(s3, bucket, object.key)) if (line.trim() !== '') lines += 1;
  }
  return { lines, files: objects.length };
}

export function createVerifyAndExportActivities(deps: VerifyAndExportDeps) {
  const { s3, healthLake } = deps;
  return {
    /** Reads `<output folder>/manifest.json` and counts the lines of its FAILURE files. */
    async readImportOutput(input: { readonly outputFolderS3Uri: string }): Promise<ImportOutputCounts> {
      const { bucket, prefix } = parseS3Uri(input.outputFolderS3Uri);
      let manifestText = '';
      for await (const line of readObjectLines(s3, bucket, joinS3Key(prefix, 'manifest.json')))
        manifestText += line;
      const manifest = JSON.parse(manifestText) as Record<string, unknown>;
      const count = (field: string) => {
        const value = manifest[field];
        if (typeof value !== 'number') {
          throw ApplicationFailure.nonRetryable(
            `manifest.json field ${field} "${String(value)}" must be a number`,
            'InvalidImportOutput',
          );
        }
        return value;
      };
      const failures = await countLines(s3, bucket, joinS3Key(prefix, 'FAILURE/'));
      return {
        numberOfScannedFiles: count('numberOfScannedFiles'),
        numberOfFilesImported: count('numberOfFilesImported'),
        numberOfResourcesScanned: count('numberOfResourcesScanned'),
        numberOfResourcesImportedSuccessfully: count('numberOfResourcesImportedSuccessfully'),
        numberOfResourcesWithCustomerError: count('numberOfResourcesWithCustomerError'),
        failureLines: failures.lines,
      };
    },

    /**
     * Starts the export once per `identity` (a deterministic ClientToken), waits for it to complete
     * heartbeating, and counts the resources it wrote. A FAILED, cancelled, missing or unknown status
     * fails non-retryably (`ExportFailureType`); SDK errors are classified by `classifyAwsError`.
     */
    async exportDatastore(input: {
      readonly identity: string;
      readonly datastoreId: string;
      readonly outputS3Uri: string;
      readonly kmsKeyId: string;
      readonly dataAccessRoleArn: string;
      readonly pollIntervalMs: number;
    }): Promise<ExportOutcome> {
      const context = Context.current();
      const abortSignal = context.cancellationSignal;
      const send = async <T>(operation: string, call: () => Promise<T>): Promise<T> => {
        try {
          return await call();
        } catch (err) {
          throw awsErrorToFailure(err, operation);
        }
      };
      const started = await send('StartFHIRExportJob', () =>
        healthLake.send(
          new StartFHIRExportJobCommand({
            DatastoreId: input.datastoreId,
            DataAccessRoleArn: input.dataAccessRoleArn,
            OutputDataConfig: { S3Configuration: { S3Uri: input.outputS3Uri, KmsKeyId: input.kmsKeyId } },
            JobName: `export-${importClientToken(input.identity).slice(0, 16)}`,
            ClientToken: importClientToken(input.identity),
          }),
          { abortSignal },
        ),
      );
      const jobId = started.JobId ?? '';
      let status: string | undefined = started.JobStatus;
      for (;;) {
        const outcome = classifyExportStatus(status);
        if (outcome.kind === 'completed') break;
        if (outcome.kind === 'fail') {
          throw ApplicationFailure.create({
            message: `export job ${jobId} JobStatus "${status ?? '<missing>'}" is not a successful end`,
            type: outcome.type,
            nonRetryable: true,
          });
        }
        context.heartbeat({ jobId, status });
        await context.sleep(input.pollIntervalMs);
        const described = await send('DescribeFHIRExportJob', () =>
          healthLake.send(
            new DescribeFHIRExportJobCommand({ DatastoreId: input.datastoreId, JobId: jobId }),
            {
              abortSignal,
            },
          ),
        );
        status = described.ExportJobProperties?.JobStatus;
      }
      const base = input.outputS3Uri.endsWith('/') ? input.outputS3Uri : `${input.outputS3Uri}/`;
      const outputFolderS3Uri = `${base}${input.datastoreId}-FHIR_EXPORT-${jobId}/`;
      const { bucket, prefix } = parseS3Uri(outputFolderS3Uri);
      const written = await countLines(s3, bucket, prefix);
      return {
        jobId,
        status: status ?? '',
        outputFolderS3Uri,
        exportedResources: written.lines,
        files: written.files,
      };
    },
  };
}
