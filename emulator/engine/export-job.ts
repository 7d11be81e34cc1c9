// An export job: write every resource of the data store as NDJSON, one resource type per file, in
// AWS's layout `<out>/<datastoreId>-FHIR_EXPORT-<jobId>/<Type>/<Type>-<n>.ndjson`. Resources are
// written exactly as they were imported, so import → export round-trips byte for byte.
import { joinS3Key, parseS3Uri, putObjectText } from '../s3';
import { checkBucket, type JobOutcome, type JobRuntime } from './runtime';

/** Largest export file before the next part starts, in bytes (AWS splits large types too). */
export const EXPORT_FILE_MAX_BYTES = 64 * 1024 * 1024;
const STEP_EVERY_RESOURCES = 256;

export async function runExport(runtime: JobRuntime): Promise<JobOutcome> {
  const { job, s3 } = runtime;
  const output = parseS3Uri(job.outputS3Uri);
  const outputProblem = await checkBucket(s3, output.bucket, 'Output', job.outputS3Uri);
  if (outputProblem) return outputProblem;

  const folder = joinS3Key(output.prefix, `${job.datastoreId}-FHIR_EXPORT-${job.jobId}`);
  const stepEvery = runtime.paced ? 1 : STEP_EVERY_RESOURCES;
  let bytes = 0;
  let count = 0;
  // A snapshot: imports running at the same time do not change what this export writes.
  const snapshot = [...runtime.resources.byType(job.datastoreId)].map(
    ([type, ids]) => [type, [...ids.values()]] as const,
  );
  for (const [type, resources] of snapshot) {
    let part = 1;
    let body = '';
    const flush = async (): Promise<void> => {
      await putObjectText(s3, output.bucket, joinS3Key(folder, `${type}/${type}-${part}.ndjson`), body);
      part += 1;
      body = '';
    };
    for (const json of resources) {
      if (body.length + json.length + 1 > EXPORT_FILE_MAX_BYTES && body !== '') await flush();
      body += `${json}\n`;
      bytes += Buffer.byteLength(json) + 1;
      count += 1;
      if (count % stepEvery === 0) await runtime.step(bytes, count);
    }
    if (body !== '') await flush();
  }
  await runtime.step(bytes, count);
  return { status: 'COMPLETED' };
}
