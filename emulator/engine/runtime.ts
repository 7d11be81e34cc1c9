// What a running job works with, and the outcome it reports. The scheduler builds one runtime per
// run; import-job.ts and export-job.ts only read S3, write S3 and the resource store, and call step().
import type { S3Client } from '@aws-sdk/client-s3';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import type { checkResourceLine } from '../fhir/validate';
import type { ResourceStore } from '../state/resource-store';
import type { JobRecord } from '../state/records';

/** The FHIR line check the import uses: emulator/fhir/validate.ts's checkResourceLine or a stand-in. */
export type ResourceLineCheck = typeof checkResourceLine;

export interface JobRuntime {
  readonly job: JobRecord;
  readonly s3: S3Client;
  readonly resources: ResourceStore;
  readonly checkResourceLine: ResourceLineCheck;
  /**
   * Call after each unit of work with the totals so far: honours fail/hang/stop requests,
   * publishes progress when the refresh interval has passed, and sleeps to keep the speed limit.
   */
  step(bytes: number, resources: number): Promise<void>;
  /** True when step() must be called after every line (a speed limit is set). */
  readonly paced: boolean;
}

export interface JobOutcome {
  readonly status: 'COMPLETED' | 'COMPLETED_WITH_ERRORS' | 'FAILED';
  readonly message?: string;
}

export const failed = (message: string): JobOutcome => ({ status: 'FAILED', message });

/** Checks a bucket can be reached; returns a FAILED outcome naming the location when it cannot. */
export async function checkBucket(s3: S3Client, bucket: string, role: 'Input' | 'Output', uri: string) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return undefined;
  } catch (err) {
    const reason =
      err instanceof Error && (err.name === 'NotFound' || err.name === 'NoSuchBucket')
        ? `bucket ${bucket} does not exist`
        : `bucket ${bucket} cannot be reached (${err instanceof Error ? err.name : 'error'})`;
    return failed(`${role} location ${uri} is not accessible: ${reason}`);
  }
}
