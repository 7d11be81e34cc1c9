// An example downstream workflow: started by the pipeline's `then` with the import's hand-off, it
// verifies the import from HealthLake's output (manifest.json, FAILURE files) against the landing
// manifest, then exports the data store and reports what the export wrote.
import { ApplicationFailure, proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { createVerifyAndExportActivities } from './verify-and-export-activities';
import type { FhirImportHandoff } from '../workflows/pipeline-types';
import { reconcileImport } from '../workflows/reconcile';

/** What the pipeline passes in `DownstreamWorkflow.context` for this workflow. */
export interface VerifyAndExportContext {
  /** Where the export writes, `s3://<bucket>/<prefix>`. */
  readonly exportS3Uri: string;
  readonly kmsKeyId: string;
  readonly dataAccessRoleArn: string;
  /** Time between two Describe calls of the export, in ms. @default 1_000 */
  readonly pollIntervalMs?: number;
}

export interface VerifyAndExportResult {
  readonly handoffId: string;
  /** Lines landed, per the landing manifest. */
  readonly linesLanded: number;
  /** Counts HealthLake wrote in the import's manifest.json. */
  readonly resourcesImported: number;
  readonly resourcesWithCustomerError: number;
  readonly failureLines: number;
  readonly exportJobId: string;
  readonly exportStatus: string;
  readonly exportedResources: number;
  readonly exportFiles: number;
}

type Activities = ReturnType<typeof createVerifyAndExportActivities>;

/** Attempts of the export activity (retryable errors only). */
const EXPORT_MAXIMUM_ATTEMPTS = 5;

const { readImportOutput } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
});

/** Verifies the import from its output location, then exports the data store. */
export async function verifyAndExportWorkflow(handoff: FhirImportHandoff): Promise<VerifyAndExportResult> {
  const context = handoff.context as VerifyAndExportContext | undefined;
  if (!handoff.manifest || !context?.exportS3Uri) {
    throw ApplicationFailure.nonRetryable(
      'handoff.manifest and handoff.context.exportS3Uri are required to verify and export',
      'InvalidVerifyAndExportInput',
    );
  }
  const { importResult, manifest } = handoff;
  setCurrentDetails(`Verifying import \`${importResult.jobId}\` against ${manifest.totalLines} landed lines`);
  const output = await readImportOutput({ outputFolderS3Uri: importResult.outputFolderS3Uri });
  const reconciliation = reconcileImport(manifest, {
    ...importResult.progress.counts,
    scannedFiles: output.numberOfScannedFiles,
    resourcesScanned: output.numberOfResourcesScanned,
    resourcesImported: output.numberOfResourcesImportedSuccessfully,
    resourcesWithCustomerError: output.numberOfResourcesWithCustomerError,
  });
  const mismatches = [...reconciliation.mismatches];
  if (output.failureLines !== output.numberOfResourcesWithCustomerError) {
    mismatches.push(
      `FAILURE lines ${output.failureLines} != resources with customer error ${output.numberOfResourcesWithCustomerError}`,
    );
  }
  if (mismatches.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `import output does not match the landing: ${mismatches.join('; ')}`,
      'ImportVerificationFailed',
    );
  }

  setCurrentDetails(
    `Verified (${output.numberOfResourcesImportedSuccessfully} imported); exporting data store \`${importResult.datastoreId}\``,
  );
  const { exportDatastore } = proxyActivities<Activities>({
    startToCloseTimeout: '1 hour',
    heartbeatTimeout: Math.max(3 * (context.pollIntervalMs ?? 1_000), 10_000),
    // The activity fails for good on a failed/cancelled/unknown export and on AWS errors no retry
    // fixes; the limit bounds the rest (throttling, 5xx, network). The ClientToken makes a retry
    // attach to the same export job.
    retry: { maximumAttempts: EXPORT_MAXIMUM_ATTEMPTS },
  });
  const exported = await exportDatastore({
    identity: `${workflowInfo().namespace}/${workflowInfo().workflowId}`,
    datastoreId: importResult.datastoreId,
    outputS3Uri: context.exportS3Uri,
    kmsKeyId: context.kmsKeyId,
    dataAccessRoleArn: context.dataAccessRoleArn,
    pollIntervalMs: context.pollIntervalMs ?? 1_000,
  });
  setCurrentDetails(
    `Exported ${exported.exportedResources} resources in ${exported.files} files (job \`${exported.jobId}\`)`,
  );
  return {
    handoffId: handoff.handoffId,
    linesLanded: manifest.totalLines,
    resourcesImported: output.numberOfResourcesImportedSuccessfully,
    resourcesWithCustomerError: output.numberOfResourcesWithCustomerError,
    failureLines: output.failureLines,
    exportJobId: exported.jobId,
    exportStatus: exported.status,
    exportedResources: exported.exportedResources,
    exportFiles: exported.files,
  };
}
