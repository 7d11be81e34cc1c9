// The import plus its failure report for people: runs `fhirImportWorkflow` as it is (same code,
// same history up to its end) and, after COMPLETED_WITH_ERRORS, summarizes the job's FAILURE files
// (counts by resource type, HTTP status and rule; no resource content) into the result and the UI.
import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { JobOutputActivities } from '../activities/job-output';
import { fhirImportWorkflow } from './import';
import {
  renderFailureReport,
  type FailureReportLimits,
  type ImportFailureReport,
} from './import-failure-report';
import type { FhirImportInput, FhirImportResult } from './types';

/** Input of {@link fhirImportWithFailureReportWorkflow}. */
export interface FhirImportWithReportInput {
  readonly import: FhirImportInput;
  /**
   * Bounds of the report, or `false` to skip it (a worker without S3 read access on the output
   * bucket). The report runs on the workflow's task queue, whose worker needs an S3 client.
   * @default { maxBytes: 16 MiB, maxLines: 100_000, maxGroups: 20, maxRuleChars: 120 }
   */
  readonly failureReport?:
    (FailureReportLimits & { readonly maxBytes?: number; readonly maxLines?: number }) | false;
}

/** The import's result, plus the report after COMPLETED_WITH_ERRORS. */
export interface FhirImportWithReportResult extends FhirImportResult {
  readonly failureReport?: ImportFailureReport;
}

/** Attempts of the report activity (retryable S3 errors only). */
const REPORT_MAXIMUM_ATTEMPTS = 3;

/**
 * Runs `fhirImportWorkflow(input.import)` in this workflow, then, when the job ended
 * COMPLETED_WITH_ERRORS, reads its FAILURE files (bounded in bytes and lines) and adds
 * `failureReport`: e.g. `Patient: 4 × 400 "Patient.birthDate: ..."`. Every failure of the import
 * passes through unchanged.
 */
export async function fhirImportWithFailureReportWorkflow(
  input: FhirImportWithReportInput,
): Promise<FhirImportWithReportResult> {
  const result = await fhirImportWorkflow(input.import);
  if (result.status !== 'COMPLETED_WITH_ERRORS' || input.failureReport === false) return result;
  const failureReport = await proxyActivities<JobOutputActivities>({
    startToCloseTimeout: '10 minutes',
    retry: { maximumAttempts: REPORT_MAXIMUM_ATTEMPTS, nonRetryableErrorTypes: ['InvalidS3Uri'] },
    summary: 'summarize the FAILURE files',
  }).summarizeImportFailures({ outputFolderS3Uri: result.outputFolderS3Uri, ...input.failureReport });
  setCurrentDetails(renderFailureReport(failureReport));
  return { ...result, failureReport };
}
