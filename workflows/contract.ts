// The package's `temporal-healthlake/contract` entry: everything around the workflows that a
// client, an activity or your own workflow code needs (workflow ids, queries, signals,
// search-attribute keys, failure type names, statuses, input/result types) and the deterministic
// helpers for running our workflows from yours. Bundle-safe: no I/O, no Node built-ins, no
// `@aws-sdk/*`. It is NOT the worker's `workflowsPath` (workflows/index.ts): every function
// exported there becomes a workflow type, so ids and helpers live here instead.

// Import: input, result, progress, query, search attributes, failure types, workflow id.
export * from './types';
export {
  FhirImportInputError,
  validateFhirImportInput,
  importJobName,
  MAX_JOB_NAME_CHARS,
} from './import-input';
export type { FhirImportInputValidation, FhirImportInputValidationOptions } from './import-input';
export { classifyImportStatus, isTerminalImportStatus, type ImportStatusOutcome } from './import-status';
export { StatusOutcome, type StatusTable } from './status-table';
export type { FhirImportWithReportInput, FhirImportWithReportResult } from './import-report';
export type { ImportFailureGroup, ImportFailureReport } from './import-failure-report';
export {
  healthLakeJobEventSignal,
  importStatusOfDetailType,
  importEventRank,
  eventSafetyNetPolicy,
  HEALTHLAKE_EVENT_SOURCE,
  HEALTHLAKE_EVENT_DETAIL_TYPES,
  IMPORT_JOB_EVENT_STATUSES,
  DEFAULT_EVENT_SAFETY_NET_DELAY_MS,
  EVENT_SAFETY_NET_MAX_FACTOR,
  type HealthLakeJobEvent,
} from './job-events';

// Export and data store lifecycles.
export * from './export-types';
export { exportProgressQuery } from './export';
export * from './datastore-types';

// Landing, the per-data-store gate, the hand-off downstream.
export * from './manifest';
export * from './landing-types';
export * from './pipeline-types';
export * from './gate-types';
export { pipelineStatusQuery, PipelinePhase, type PipelineStatus } from './landing';

// Deterministic helpers for your own workflow code (call them only inside a workflow).
export { buildLandingManifest } from './landing-manifest';
export { reconcileImport } from './reconcile';
export {
  runFhirImportWithManifest,
  handOffFhirImportResult,
  type RunFhirImportOptions,
  type FhirPipelineOutcome,
} from './pipeline';
export { withHealthLakeGate } from './gate';
