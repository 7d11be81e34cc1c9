// The durable FHIR import: validate, start (or attach to) a HealthLake import job exactly once,
// wait for a terminal status with bounded history, and return a typed result.
import type { FhirImportInput, FhirImportResult } from './types';

/** Skeleton: the full workflow lands in the next commits. */
export async function fhirImportWorkflow(input: FhirImportInput): Promise<FhirImportResult> {
  throw new Error(`fhirImportWorkflow is not implemented yet (data store ${input.datastoreId})`);
}
