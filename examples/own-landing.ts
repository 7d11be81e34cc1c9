// For teams that already have a landing workflow: after your own activities put the NDJSON in S3,
// build the manifest from what they report and run the import as a child with it. The gate, the
// reconciliation and the hand-off downstream come with `runFhirImportWithManifest`.
import type { LandedObject } from '../workflows/manifest';
import { buildLandingManifest } from '../workflows/landing-manifest';
import { runFhirImportWithManifest, type FhirPipelineOutcome } from '../workflows/pipeline';
import type { DownstreamWorkflow } from '../workflows/pipeline-types';
import type { FhirImportInput } from '../workflows/types';

/** What your landing workflow knows once its own landing is done. */
export interface OwnLandingInput {
  /** Your batch key: it names the import, so a retried batch never imports twice. */
  readonly batchId: string;
  readonly datastoreId: string;
  /** The prefix your landing wrote to, `s3://<bucket>/<prefix>/`. */
  readonly inputS3Uri: string;
  readonly outputS3Uri: string;
  readonly kmsKeyId: string;
  readonly dataAccessRoleArn: string;
  /** What your landing activity reports per object: key, size, SHA-256, resource lines. */
  readonly landedObjects: readonly LandedObject[];
  /** @default [] */
  readonly then?: readonly DownstreamWorkflow[];
  /** @default the import's production poll policy */
  readonly pollPolicy?: FhirImportInput['pollPolicy'];
}

/** Your workflow, after landing: import with the manifest you built, fail on any mismatch. */
export async function ownLandingWorkflow(input: OwnLandingInput): Promise<FhirPipelineOutcome> {
  // ... your own landing activities ran here and returned `input.landedObjects` ...
  const manifest = buildLandingManifest(input.inputS3Uri, input.landedObjects);
  return runFhirImportWithManifest({
    import: {
      datastoreId: input.datastoreId,
      inputS3Uri: input.inputS3Uri,
      outputS3Uri: input.outputS3Uri,
      kmsKeyId: input.kmsKeyId,
      dataAccessRoleArn: input.dataAccessRoleArn,
      manifest,
      reconciliation: 'strict',
      pollPolicy: input.pollPolicy,
    },
    importWorkflowId: `fhir-import-${input.batchId}`,
    then: input.then,
  });
}
