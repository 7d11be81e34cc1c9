// The package's `temporal-healthlake/testing` entry: the local stack this project tests itself
// with, for your tests and local runs. A real Temporal dev server (the official CLI, installed
// from PyPI into `.tools/` on first use), a real S3-compatible server (moto), the HealthLake
// emulator, and a FHIR R4 data generator. Nothing here is needed in production.

// Temporal: the dev server (register `importSearchAttributes` from `temporal-healthlake/contract`).
export {
  startTemporalDevServer,
  createLocalTestEnv,
  type TemporalDevServer,
  type TemporalDevServerOptions,
  type DevServerSearchAttributeType,
  type LocalTestEnv,
} from '../worker/dev-server';
export {
  resolveTool,
  ToolNotFoundError,
  TEMPORAL_CLI,
  MOTO_SERVER,
  type ResolveToolOptions,
  type ResolvedTool,
  type ToolSpec,
} from '../worker/local-tools';

// S3 and HealthLake: moto, the emulator on it, SDK clients for both, job pollers.
export {
  startS3Server,
  S3ServerStartError,
  type S3ServerHandle,
  type S3ServerOptions,
} from '../emulator/s3-server';
export {
  createS3Client,
  ensureBucket,
  LOCAL_S3_CREDENTIALS,
  type CreateS3ClientOptions,
} from '../emulator/s3';
export {
  startLocalHealthLake,
  healthLakeClientFor,
  waitForImportJob,
  waitForExportJob,
  waitForDatastore,
  type LocalHealthLake,
} from '../emulator/testing';
export { startEmulator, type EmulatorHandle, type EmulatorOptions } from '../emulator/index';

// FHIR R4 test data: deterministic bundles with optional deliberately broken lines.
export {
  generateFhirData,
  writeFhirDataToDir,
  writeFhirDataToS3,
  GenerateFhirOptionError,
  BrokenLineKind,
  type GenerateFhirOptions,
  type GeneratedFhirData,
  type GeneratedFile,
  type GeneratedFhirCounts,
  type WriteFhirDataOptions,
} from '../emulator/fhir/generate';
