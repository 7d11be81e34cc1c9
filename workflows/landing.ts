// The reusable landing workflow: lands FHIR NDJSON into the import's input prefix, then runs
// fhirImportWorkflow as a child with the manifest (through the per-data-store gate) and hands the
// result on. Its `pipelineStatus` query says which phase it is in, for progress displays.
import {
  ApplicationFailure,
  defineQuery,
  type ActivityOptions,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { createLandingActivities } from '../activities/landing';
import type { FhirLandingInput, FhirLandingResult } from './landing-types';
import type { LandingTotals } from './manifest';
import { runFhirImportWithManifest } from './pipeline';
import { fhirImportWorkflowId } from './types';

export type * from './landing-types';

type LandingActivities = ReturnType<typeof createLandingActivities>;

/** Phases of a landing pipeline, in order. */
export const PipelinePhase = {
  landing: 'landing',
  importing: 'importing',
  done: 'done',
} as const;
export type PipelinePhase = (typeof PipelinePhase)[keyof typeof PipelinePhase];

/** What `pipelineStatusQuery` returns: the phase, the import's id, and the landing totals once known. */
export interface PipelineStatus {
  readonly phase: PipelinePhase;
  readonly importWorkflowId: string;
  readonly landed?: Pick<LandingTotals, 'totalObjects' | 'totalBytes' | 'totalLines'>;
}

export const pipelineStatusQuery = defineQuery<PipelineStatus>('pipelineStatus');

const DEFAULT_LANDING_TIMEOUT_MS = 3_600_000;
const DEFAULT_LANDING_HEARTBEAT_TIMEOUT_MS = 60_000;
const DEFAULT_LANDING_MAXIMUM_ATTEMPTS = 10;
const BYTES_PER_MIB = 1_048_576;
/**
 * Patch: land with `landFhirBatch` (manifest kept in S3, a reference in the history) instead of
 * `landFhirObjects` (every key in the history, PayloadsTooLarge past a few thousand objects).
 * Landings that scheduled `landFhirObjects` before it keep that path on replay.
 */
export const MANIFEST_IN_S3_PATCH = 'landing-manifest-in-s3';

/**
 * Lands `input.source` under `input.import.inputS3Uri`, imports it, hands the result on.
 * Retries and replays start nothing twice: the landing skips objects already there with the same
 * SHA-256, the import child and downstream workflows have deterministic ids.
 */
export async function fhirLandingWorkflow(input: FhirLandingInput): Promise<FhirLandingResult> {
  if (!input.import?.inputS3Uri) {
    throw ApplicationFailure.nonRetryable(
      'input.import.inputS3Uri "" must be the S3 prefix to land into, s3://<bucket>/<prefix>',
      'InvalidFhirLandingInput',
    );
  }
  const importWorkflowId = input.importWorkflowId ?? fhirImportWorkflowId(workflowInfo().workflowId);
  let status: PipelineStatus = { phase: PipelinePhase.landing, importWorkflowId };
  setHandler(pipelineStatusQuery, () => status);
  setCurrentDetails(`Landing FHIR NDJSON into \`${input.import.inputS3Uri}\``);

  const landingOptions: ActivityOptions = {
    taskQueue: input.landingTaskQueue,
    startToCloseTimeout: input.landingTimeoutMs ?? DEFAULT_LANDING_TIMEOUT_MS,
    heartbeatTimeout: input.landingHeartbeatTimeoutMs ?? DEFAULT_LANDING_HEARTBEAT_TIMEOUT_MS,
    // The activity fails for good on what no retry fixes (a bad source, access denied, a missing
    // bucket, a 4xx, stray objects); the limit bounds the rest (network, throttling, 5xx).
    retry: {
      initialInterval: '1s',
      maximumInterval: '1 minute',
      maximumAttempts: input.landingMaximumAttempts ?? DEFAULT_LANDING_MAXIMUM_ATTEMPTS,
    },
  };
  const { landFhirObjects, landFhirBatch } = proxyActivities<LandingActivities>(landingOptions);
  const summary = `land FHIR NDJSON (${input.source.kind}) into ${input.import.inputS3Uri}`;
  const landInput = { source: input.source, targetS3Uri: input.import.inputS3Uri };
  const manifest = patched(MANIFEST_IN_S3_PATCH)
    ? await landFhirBatch.executeWithOptions({ ...landingOptions, summary }, [
        { ...landInput, manifestS3Uri: input.manifestS3Uri },
      ])
    : await landFhirObjects.executeWithOptions({ ...landingOptions, summary }, [landInput]);
  const landed = {
    totalObjects: manifest.totalObjects,
    totalBytes: manifest.totalBytes,
    totalLines: manifest.totalLines,
  };
  status = { phase: PipelinePhase.importing, importWorkflowId, landed };
  setCurrentDetails(
    `Landed ${landed.totalObjects} objects, ${(landed.totalBytes / BYTES_PER_MIB).toFixed(1)} MiB, ` +
      `${landed.totalLines} lines; importing as \`${importWorkflowId}\``,
  );

  const outcome = await runFhirImportWithManifest({
    import: { ...input.import, manifest },
    importWorkflowId,
    gate: input.gate,
    then: input.then,
    notify: input.notify,
  });
  status = { phase: PipelinePhase.done, importWorkflowId, landed };
  setCurrentDetails(
    `Imported ${outcome.importResult.progress.counts.resourcesImported} resources (job \`${outcome.importResult.jobId}\`, ` +
      `${outcome.importResult.status}); downstream: ${outcome.downstream.map((d) => `\`${d.workflowId}\``).join(', ') || 'none'}`,
  );
  return { manifest, ...outcome };
}
