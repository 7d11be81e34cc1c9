// The end-of-job reconciliation of an import's counts against its landing manifest: pure, no I/O,
// safe in workflow code. (Percent and ETA from the manifest live in poll-policy.ts.)
import type { LandingTotals } from './manifest';
import type { ImportJobCounts, ImportReconciliation } from './types';

/**
 * Compares the job's final counts with what was landed. Every resource line landed must be
 * scanned, and end up imported or reported as a customer error; every object landed must be
 * scanned. One sentence per mismatch; none when everything adds up.
 */
export function reconcileImport(manifest: LandingTotals, counts: ImportJobCounts): ImportReconciliation {
  const mismatches: string[] = [];
  if (counts.scannedFiles !== manifest.totalObjects) {
    mismatches.push(`files scanned ${counts.scannedFiles} != files landed ${manifest.totalObjects}`);
  }
  if (counts.resourcesScanned !== manifest.totalLines) {
    mismatches.push(`resources scanned ${counts.resourcesScanned} != lines landed ${manifest.totalLines}`);
  }
  const accounted = counts.resourcesImported + counts.resourcesWithCustomerError;
  if (accounted !== manifest.totalLines) {
    mismatches.push(
      `resources imported ${counts.resourcesImported} + with customer error ${counts.resourcesWithCustomerError}` +
        ` = ${accounted} != lines landed ${manifest.totalLines}`,
    );
  }
  if (counts.filesReadWithCustomerError > 0) {
    mismatches.push(`${counts.filesReadWithCustomerError} landed files could not be read`);
  }
  return {
    filesLanded: manifest.totalObjects,
    filesScanned: counts.scannedFiles,
    linesLanded: manifest.totalLines,
    resourcesScanned: counts.resourcesScanned,
    resourcesImported: counts.resourcesImported,
    resourcesWithCustomerError: counts.resourcesWithCustomerError,
    mismatches,
  };
}

/** The message of the strict-reconciliation failure (`HealthLakeImportReconciliationMismatch`). */
export function reconciliationFailureMessage(reconciliation: ImportReconciliation): string {
  return `import does not reconcile with the landing manifest: ${reconciliation.mismatches.join('; ')}`;
}
