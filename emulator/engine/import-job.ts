// An import job: list the `.ndjson` objects under the input prefix, stream their lines, check each
// resource at the job's validation level, upsert the valid ones, and write SUCCESS/FAILURE lines
// and manifest.json in AWS's layout. Job-level problems end the job FAILED with a message.
import {
  joinS3Key,
  listObjects,
  parseS3Uri,
  putObjectText,
  readObjectLines,
  type S3ObjectSummary,
} from '../s3';
import { emptyProgress, type JobProgress } from '../state/records';
import { checkBucket, failed, type JobOutcome, type JobRuntime } from './runtime';

const BYTES_PER_MB = 1_000_000;

/**
 * A line with no resource: empty or only whitespace as `String.prototype.trim` defines it (NBSP
 * and BOM included). HealthLake skips such lines without counting them; temporal-healthlake's
 * landing (workflows/ndjson.ts) counts lines by the same rule, so its manifest agrees with this scan.
 */
const isBlankNdjsonLine = (line: string): boolean => line.trim() === '';
/** Lines between two step() calls when no speed limit is set (keeps the loop lean). */
const STEP_EVERY_LINES = 256;

const successBlob = (diagnostics: string): string =>
  JSON.stringify({
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'information', code: 'informational', diagnostics }],
  });
const SUCCESS_SUFFIX = {
  created: `{"jsonBlob":${successBlob('SUCCESSFUL_CREATE')}},"statusCode":201}\n`,
  updated: `{"jsonBlob":${successBlob('SUCCESSFUL_UPDATE')}},"statusCode":200}\n`,
} as const;

const jobFolder = (job: JobRuntime['job']): string => `${job.datastoreId}-FHIR_IMPORT-${job.jobId}`;

/** The input object's name relative to the input prefix, which AWS reuses for SUCCESS/FAILURE files. */
function relativeName(key: string, prefix: string): string {
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  return rest.replace(/^\/+/, '') || key.split('/').pop()!;
}

export async function runImport(
  runtime: JobRuntime,
  publish: (progress: JobProgress) => void,
): Promise<JobOutcome> {
  const { job, s3 } = runtime;
  const input = parseS3Uri(job.inputS3Uri!);
  const output = parseS3Uri(job.outputS3Uri);

  const inputProblem = await checkBucket(s3, input.bucket, 'Input', job.inputS3Uri!);
  if (inputProblem) return inputProblem;
  let objects: S3ObjectSummary[];
  try {
    objects = await listObjects(s3, input.bucket, input.prefix);
  } catch (err) {
    return failed(
      `Input location ${job.inputS3Uri} cannot be listed: ${err instanceof Error ? err.name : 'error'}`,
    );
  }
  const files = objects.filter((o) => o.key.endsWith('.ndjson'));
  if (files.length === 0) return failed(`No .ndjson files found under ${job.inputS3Uri}`);
  const outputProblem = await checkBucket(s3, output.bucket, 'Output', job.outputS3Uri);
  if (outputProblem) return outputProblem;

  const progress = emptyProgress();
  const level = job.validationLevel ?? 'strict';
  const folder = joinS3Key(output.prefix, jobFolder(job));
  let bytes = 0;
  let importedBytes = 0;
  const stepEvery = runtime.paced ? 1 : STEP_EVERY_LINES;
  const sync = (): void => {
    progress.TotalSizeOfScannedFilesInMB = bytes / BYTES_PER_MB;
    publish(progress);
  };

  for (const file of files) {
    progress.TotalNumberOfScannedFiles += 1;
    const name = relativeName(file.key, input.prefix);
    let success = '';
    let failure = '';
    let lineId = 0;
    try {
      for await (const line of readObjectLines(s3, input.bucket, file.key)) {
        lineId += 1;
        const lineBytes = Buffer.byteLength(line) + 1;
        bytes += lineBytes;
        if (!isBlankNdjsonLine(line)) {
          const json = line.trim();
          progress.TotalNumberOfResourcesScanned += 1;
          const result = runtime.checkResourceLine(json, level);
          if (result.ok) {
            const change = runtime.resources.upsert(job.datastoreId, result.resourceType, result.id, json);
            success += `{"lineId":${lineId},"UpdateResourceResponse":${SUCCESS_SUFFIX[change]}`;
            progress.TotalNumberOfResourcesImported += 1;
            importedBytes += lineBytes;
          } else {
            failure += `${JSON.stringify({ lineId, UpdateResourceResponse: { jsonBlob: result.outcome }, statusCode: result.statusCode })}\n`;
            progress.TotalNumberOfResourcesWithCustomerError += 1;
          }
        }
        if (lineId % stepEvery === 0) {
          sync();
          await runtime.step(bytes, progress.TotalNumberOfResourcesScanned);
        }
      }
      progress.TotalNumberOfImportedFiles += 1;
    } catch (err) {
      if (err instanceof Error && (err.name === 'ForcedFailure' || err.name === 'EmulatorStopping'))
        throw err;
      progress.TotalNumberOfFilesReadWithCustomerError += 1;
    }
    await Promise.all([
      success && putObjectText(s3, output.bucket, joinS3Key(folder, `SUCCESS/${name}`), success),
      failure && putObjectText(s3, output.bucket, joinS3Key(folder, `FAILURE/${name}`), failure),
    ]);
    sync();
    await runtime.step(bytes, progress.TotalNumberOfResourcesScanned);
  }

  const base = `s3://${output.bucket}/${folder}`;
  const manifest = {
    inputDataConfig: { s3Uri: job.inputS3Uri },
    outputDataConfig: { s3Uri: job.outputS3Uri, encryptionKeyID: job.kmsKeyId },
    successOutput: { successOutputS3Uri: `${base}/SUCCESS/` },
    failureOutput: { failureOutputS3Uri: `${base}/FAILURE/` },
    numberOfScannedFiles: progress.TotalNumberOfScannedFiles,
    numberOfFilesImported: progress.TotalNumberOfImportedFiles,
    sizeOfScannedFilesInMB: bytes / BYTES_PER_MB,
    sizeOfDataImportedSuccessfullyInMB: importedBytes / BYTES_PER_MB,
    numberOfResourcesScanned: progress.TotalNumberOfResourcesScanned,
    numberOfResourcesImportedSuccessfully: progress.TotalNumberOfResourcesImported,
    numberOfResourcesWithCustomerError: progress.TotalNumberOfResourcesWithCustomerError,
    numberOfResourcesWithServerError: 0,
  };
  await putObjectText(
    s3,
    output.bucket,
    joinS3Key(folder, 'manifest.json'),
    JSON.stringify(manifest, null, 2),
  );
  sync();
  const clean =
    progress.TotalNumberOfResourcesWithCustomerError === 0 &&
    progress.TotalNumberOfFilesReadWithCustomerError === 0;
  return { status: clean ? 'COMPLETED' : 'COMPLETED_WITH_ERRORS' };
}
