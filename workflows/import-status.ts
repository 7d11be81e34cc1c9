// What a HealthLake import job status means for the workflow: keep waiting, or which terminal
// outcome. A pure function over every JobStatus member; an unknown status is an error.
import { ImportJobStatus } from './types';

/** The workflow's reading of a job status. */
export type ImportStatusOutcome =
  /** Not terminal: SUBMITTED, QUEUED, IN_PROGRESS, and the transitional CANCEL_SUBMITTED/CANCEL_IN_PROGRESS. */
  | { readonly kind: 'waiting'; readonly status: ImportJobStatus }
  | { readonly kind: 'completed'; readonly status: 'COMPLETED' }
  | { readonly kind: 'completed-with-errors'; readonly status: 'COMPLETED_WITH_ERRORS' }
  | { readonly kind: 'failed'; readonly status: 'FAILED' }
  | { readonly kind: 'cancelled'; readonly status: 'CANCEL_COMPLETED' | 'CANCEL_FAILED' }
  /** A status this code does not know (a newer API?): fail loudly, never wait on it. */
  | { readonly kind: 'unknown'; readonly status: string };

/**
 * Classifies a `JobStatus` string as HealthLake returns it.
 *
 * CANCEL_SUBMITTED and CANCEL_IN_PROGRESS keep the workflow waiting for the cancel to settle;
 * both CANCEL_COMPLETED and CANCEL_FAILED end the import as cancelled (HealthLake lists both as
 * terminal, and neither leaves a finished import behind).
 */
export function classifyImportStatus(status: string): ImportStatusOutcome {
  switch (status) {
    case ImportJobStatus.SUBMITTED:
    case ImportJobStatus.QUEUED:
    case ImportJobStatus.IN_PROGRESS:
    case ImportJobStatus.CANCEL_SUBMITTED:
    case ImportJobStatus.CANCEL_IN_PROGRESS:
      return { kind: 'waiting', status };
    case ImportJobStatus.COMPLETED:
      return { kind: 'completed', status };
    case ImportJobStatus.COMPLETED_WITH_ERRORS:
      return { kind: 'completed-with-errors', status };
    case ImportJobStatus.FAILED:
      return { kind: 'failed', status };
    case ImportJobStatus.CANCEL_COMPLETED:
    case ImportJobStatus.CANCEL_FAILED:
      return { kind: 'cancelled', status };
    default:
      return { kind: 'unknown', status };
  }
}

/** True for statuses after which the job never changes again. */
export function isTerminalImportStatus(status: string): boolean {
  const { kind } = classifyImportStatus(status);
  return kind !== 'waiting' && kind !== 'unknown';
}
