// Activities that read a finished job's output in S3: count an export's files and resources per
// resource type, and summarize an import's FAILURE files (counts and rules only, never content).
// They need S3 read access on the output bucket; workers without it simply do not register them.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { S3Client } from '@aws-sdk/client-s3';
import { listObjects, parseS3Uri, readObjectLines, S3UriError } from './s3';
import type { ExportOutputCounts, ExportTypeCount } from '../workflows/export-types';
import {
  FailureReportBuilder,
  type FailureReportLimits,
  type ImportFailureReport,
} from '../workflows/import-failure-report';
import { awsErrorToFailure } from './aws-errors';

/** Dependencies of {@link createJobOutputActivities}. */
export interface JobOutputActivityDeps {
  readonly s3: S3Client;
}

/** Arguments of `summarizeImportFailures`. */
export interface SummarizeImportFailuresArgs extends FailureReportLimits {
  /** The import result's `outputFolderS3Uri` (`.../<datastoreId>-FHIR_IMPORT-<jobId>/`). */
  readonly outputFolderS3Uri: string;
  /** Bytes read at most, over all FAILURE files. @default 16 MiB */
  readonly maxBytes?: number;
  /** Lines read at most, over all FAILURE files. @default 100_000 */
  readonly maxLines?: number;
}

export const DEFAULT_FAILURE_REPORT_MAX_BYTES = 16 * 1024 * 1024;
export const DEFAULT_FAILURE_REPORT_MAX_LINES = 100_000;
/** Heartbeat while reading every this many lines (progress for the UI, liveness for the server). */
const HEARTBEAT_EVERY_LINES = 10_000;

function badUri(field: string, err: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${field}: ${err instanceof Error ? err.message : String(err)}`,
    type: 'InvalidS3Uri',
    nonRetryable: true,
  });
}

function heartbeat(details: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // outside an activity (a script or a unit test)
  }
}

/** Builds the output-reading activities. */
export function createJobOutputActivities(deps: JobOutputActivityDeps) {
  const { s3 } = deps;

  function locate(field: string, uri: string): { bucket: string; prefix: string } {
    try {
      const location = parseS3Uri(uri);
      return {
        bucket: location.bucket,
        prefix: location.prefix.endsWith('/') ? location.prefix : `${location.prefix}/`,
      };
    } catch (err) {
      throw err instanceof S3UriError ? badUri(field, err) : err;
    }
  }

  return {
    /**
     * Counts an export's output: every object under the folder, grouped by the resource type it is
     * filed under (`<folder>/<Type>/<file>`; a file directly in the folder is grouped by the name
     * before its first `-` or `.`), resources = non-empty lines. Reads each object once, streaming;
     * heartbeats after every file. `manifest.json` and other non-NDJSON objects are not counted.
     */
    countExportOutput: async (args: { outputFolderS3Uri: string }): Promise<ExportOutputCounts> => {
      const { bucket, prefix } = locate('outputFolderS3Uri', args.outputFolderS3Uri);
      const byType = new Map<string, { files: number; resources: number; bytes: number }>();
      let objects;
      try {
        objects = await listObjects(s3, bucket, prefix);
      } catch (err) {
        throw awsErrorToFailure(err, 'S3 ListObjectsV2');
      }
      for (const object of objects) {
        const relative = object.key.slice(prefix.length);
        if (!relative.endsWith('.ndjson')) continue;
        const slash = relative.indexOf('/');
        const type = slash > 0 ? relative.slice(0, slash) : (relative.split(/[-.]/, 1)[0] ?? relative);
        let resources = 0;
        try {
          for await (const line of readObjectLines(s3, bucket, object.key))
            if (line.trim() !== '') resources++;
        } catch (err) {
          throw awsErrorToFailure(err, 'S3 GetObject');
        }
        const count = byType.get(type) ?? { files: 0, resources: 0, bytes: 0 };
        count.files += 1;
        count.resources += resources;
        count.bytes += object.sizeBytes;
        byType.set(type, count);
        heartbeat({ filesCounted: [...byType.values()].reduce((sum, c) => sum + c.files, 0) });
      }
      const sorted = [...byType.entries()].sort(([a], [b]) => a.localeCompare(b));
      const total = (pick: (c: ExportTypeCount) => number) => sorted.reduce((sum, [, c]) => sum + pick(c), 0);
      return {
        files: total((c) => c.files),
        resources: total((c) => c.resources),
        bytes: total((c) => c.bytes),
        byType: Object.fromEntries(sorted),
      };
    },

    /**
     * Reads an import's FAILURE files (`<outputFolder>FAILURE/`) and summarizes them as counts by
     * resource type, HTTP status and diagnostic rule (see workflows/import-failure-report.ts). Bounded:
     * stops after `maxBytes` / `maxLines` (`truncated: true`), keeps `maxGroups` groups. The report
     * holds no resource content, values or file names.
     */
    summarizeImportFailures: async (args: SummarizeImportFailuresArgs): Promise<ImportFailureReport> => {
      const { bucket, prefix } = locate('outputFolderS3Uri', args.outputFolderS3Uri);
      const maxBytes = args.maxBytes ?? DEFAULT_FAILURE_REPORT_MAX_BYTES;
      const maxLines = args.maxLines ?? DEFAULT_FAILURE_REPORT_MAX_LINES;
      const builder = new FailureReportBuilder(args);
      let files;
      try {
        files = (await listObjects(s3, bucket, `${prefix}FAILURE/`)).filter((o) => o.sizeBytes > 0);
      } catch (err) {
        throw awsErrorToFailure(err, 'S3 ListObjectsV2');
      }
      let filesRead = 0;
      let truncated = false;
      reading: for (const file of files) {
        filesRead += 1;
        try {
          for await (const line of readObjectLines(s3, bucket, file.key)) {
            if (builder.linesRead >= maxLines || builder.bytesRead >= maxBytes) {
              truncated = true;
              break reading;
            }
            builder.add(line, Buffer.byteLength(line) + 1);
            if (builder.linesRead % HEARTBEAT_EVERY_LINES === 0) heartbeat({ linesRead: builder.linesRead });
          }
        } catch (err) {
          throw awsErrorToFailure(err, 'S3 GetObject');
        }
      }
      return builder.build({ failureFiles: files.length, failureFilesRead: filesRead, truncated });
    },
  };
}

/** The output-reading activities object, for `proxyActivities<JobOutputActivities>()`. */
export type JobOutputActivities = ReturnType<typeof createJobOutputActivities>;
