// `healthlake-emulator/fhir`: the FHIR R4 parts on their own: the deterministic data generator
// (linked bundles, optional deliberately broken lines) and the line validator the emulator's
// import jobs run at HealthLake's three validation levels.
export {
  generateFhirData,
  writeFhirDataToDir,
  writeFhirDataToS3,
  GenerateFhirOptionError,
  BrokenLineKind,
  BROKEN_LINE_KINDS,
  KINDS_REJECTED_BY_MINIMAL,
  MAX_GENERATED_PATIENTS,
  type GenerateFhirOptions,
  type GenerateFhirProgress,
  type GeneratedFhirData,
  type GeneratedFile,
  type GeneratedFhirCounts,
  type WriteFhirDataOptions,
} from './generate';
export {
  checkResourceLine,
  fhirR4ResourceTypes,
  isValidationLevel,
  ValidationLevel,
  VALIDATION_LEVELS,
  type IssueType,
  type OperationOutcome,
  type OperationOutcomeIssue,
  type ResourceCheck,
} from './validate';
