// The import's own metrics, emitted from workflow code through the SDK's workflow metric meter:
// never during replay (so each import counts once, on the worker that ran it first) and never a
// command, so histories are unchanged. Labels carry statuses and failure types only, no ids or PHI.
import { ApplicationFailure, metricMeter } from '@temporalio/workflow';
import type { FhirImportResult } from './types';

/** Names of the import workflow's metrics (Prometheus adds `_total` to counters). */
export const ImportMetric = {
  /** Import workflows that began (one per import, retries and replays not counted). */
  started: 'healthlake_imports_started',
  /** Imports that returned a result, by `status` (COMPLETED, COMPLETED_WITH_ERRORS). */
  completed: 'healthlake_imports_completed',
  /** Imports that failed, by `type` (the failure type, e.g. HealthLakeImportFailed). */
  failed: 'healthlake_imports_failed',
  /** Resources of completed imports, by `outcome` (imported, failed). */
  resources: 'healthlake_import_resources',
} as const;

export function countImportStarted(): void {
  metricMeter.createCounter(ImportMetric.started, 'imports', 'Import workflows started').add(1);
}

export function countImportCompleted(result: FhirImportResult): FhirImportResult {
  metricMeter
    .createCounter(ImportMetric.completed, 'imports', 'Imports that returned a result, by job status')
    .add(1, { status: result.status });
  const resources = metricMeter.createCounter(
    ImportMetric.resources,
    'resources',
    'Resources of completed imports, by outcome',
  );
  const counts = result.progress.counts;
  resources.add(counts.resourcesImported, { outcome: 'imported' });
  resources.add(counts.resourcesWithCustomerError, { outcome: 'failed' });
  return result;
}

export function countImportFailed(err: unknown): unknown {
  const type =
    err instanceof ApplicationFailure
      ? (err.type ?? 'ApplicationFailure')
      : err instanceof Error
        ? err.name
        : 'unknown';
  metricMeter
    .createCounter(ImportMetric.failed, 'imports', 'Imports that failed, by failure type')
    .add(1, { type });
  return err;
}
