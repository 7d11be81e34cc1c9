// Types of the landing step shared by the landing activity, the landing workflow and clients:
// where FHIR NDJSON comes from, what the activity heartbeats, and the landing workflow's contract.
import type { FhirImportInput, FhirImportResult } from './types';
import type { LandingManifestOrRef } from './manifest';
import {
  pipelineStaticSummary,
  type PipelineHandoffOptions,
  type DownstreamStart,
  type PipelineGateOption,
} from './pipeline-types';

/** Where the FHIR NDJSON to land comes from. Only `.ndjson` objects are landed. */
export type LandingSource =
  /**
   * A folder the landing worker knows by name (`directoryRoots` of `createLandingActivities`),
   * searched recursively; names keep their path relative to the folder. The host path stays on
   * the worker, out of workflow histories. `subfolder` (relative, no `..`) narrows it to one batch.
   */
  | { readonly kind: 'directoryRoot'; readonly root: string; readonly subfolder?: string }
  /**
   * A folder on the landing worker's host by its path, searched recursively. The path is part of
   * the workflow input, so it is in the history: prefer `directoryRoot` when paths may carry PHI.
   */
  | { readonly kind: 'directory'; readonly path: string }
  /** HTTP(S) URLs; each lands under its last path segment (`.ndjson` appended when missing). */
  | { readonly kind: 'urls'; readonly urls: readonly string[] }
  /** Another S3 prefix, `s3://<bucket>/<prefix>`; names are the keys relative to that prefix. */
  | { readonly kind: 's3'; readonly s3Uri: string };

/** Input of the `landFhirObjects` activity. */
export interface LandFhirInput {
  readonly source: LandingSource;
  /** The import's input prefix, `s3://<bucket>/<prefix>`. */
  readonly targetS3Uri: string;
}

/** Input of the `landFhirBatch` activity: lands like `landFhirObjects`, keeps the manifest in S3. */
export interface LandFhirBatchInput extends LandFhirInput {
  /**
   * Where to write the full manifest, `s3://<bucket>/<key>.json`; never under `targetS3Uri`
   * (the import would read it). @default `_manifests/<last segment>.json` beside the target prefix:
   * `s3://b/imports/batch-42/` -> `s3://b/imports/_manifests/batch-42.json`
   */
  readonly manifestS3Uri?: string;
}

/** What `landFhirObjects` heartbeats (and resumes from after a retry). Counts only. */
export interface LandingProgress {
  readonly objectsTotal: number;
  /** Objects finished, in source order; a retry trusts these from their metadata. */
  readonly objectsDone: number;
  readonly objectsUploaded: number;
  /** Objects already landed with the same SHA-256, not uploaded again. */
  readonly objectsSkipped: number;
  /** Bytes of finished objects plus the bytes of the object in flight. */
  readonly bytesLanded: number;
}

/** Input of `fhirLandingWorkflow`: land, then import (gated per data store), then hand off. */
export interface FhirLandingInput extends PipelineHandoffOptions {
  readonly source: LandingSource;
  /**
   * The import to run once landed. `inputS3Uri` is where the landing puts the files; `manifest`
   * is filled in by the landing.
   */
  readonly import: Omit<FhirImportInput, 'manifest'>;
  /**
   * Task queue of the landing activity: a worker that can read the source (for a directory
   * source, a worker on that host). @default the workflow's task queue
   */
  readonly landingTaskQueue?: string;
  /** Longest time one landing attempt may take, in ms. @default 3_600_000 */
  readonly landingTimeoutMs?: number;
  /** Heartbeat timeout of the landing activity, in ms. @default 60_000 */
  readonly landingHeartbeatTimeoutMs?: number;
  /**
   * Attempts of the landing activity before the workflow fails (retryable errors only: network,
   * throttling, 5xx; the rest fail on the first attempt). `0` means no limit. @default 10
   */
  readonly landingMaximumAttempts?: number;
  /** Workflow id of the import child. @default fhirImportWorkflowId(<this workflow's id>) */
  readonly importWorkflowId?: string;
  /** The per-data-store gate. @default {} (on, on this workflow's task queue) */
  readonly gate?: PipelineGateOption;
  /**
   * Where the landing writes the full manifest (keys, sizes, SHA-256, lines) as JSON; only a
   * reference and the totals travel through Temporal. Never under `import.inputS3Uri`.
   * @default `_manifests/<last segment>.json` beside `import.inputS3Uri`
   */
  readonly manifestS3Uri?: string;
}

/** What `fhirLandingWorkflow` returns. */
export interface FhirLandingResult {
  /**
   * A reference to the manifest in S3 with the totals; inline (a `LandingManifest`) only for
   * landings started before the manifest moved to S3.
   */
  readonly manifest: LandingManifestOrRef;
  readonly importWorkflowId: string;
  readonly importResult: FhirImportResult;
  readonly downstream: readonly DownstreamStart[];
  /** Workflow ids signalled with the result. */
  readonly notified: readonly string[];
}

/** How a landing source reads in the UI: its kind, never a path, key or URL (they may carry PHI). */
function describeLandingSource(source: LandingSource): string {
  switch (source.kind) {
    case 'directoryRoot':
      return `land the worker folder "${source.root}"`;
    case 'directory':
      return 'land a folder on the landing worker';
    case 'urls':
      return `land ${source.urls.length} URL${source.urls.length === 1 ? '' : 's'}`;
    case 's3':
      return 'land an S3 prefix';
  }
}

/**
 * Start options for `fhirLandingWorkflow` with the UI's static summary and details (what it lands,
 * the import, what it hands on), so a pipeline you start reads like the demo's.
 *
 * @example
 * await client.workflow.start(fhirLandingWorkflow,
 *   fhirLandingStartOptions({ workflowId: `land-${batchId}`, taskQueue: 'healthlake', input }));
 */
export function fhirLandingStartOptions(options: {
  /** Your batch key in an id: retries and re-runs attach instead of duplicating. */
  readonly workflowId: string;
  readonly taskQueue: string;
  readonly input: FhirLandingInput;
}) {
  return {
    workflowId: options.workflowId,
    taskQueue: options.taskQueue,
    args: [options.input] as [FhirLandingInput],
    ...pipelineStaticSummary(
      describeLandingSource(options.input.source),
      options.input.import,
      options.input,
    ),
  };
}
