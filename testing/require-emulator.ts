// Loaded first by testing/index.ts: fails the import of `temporal-healthlake/testing` with one
// clear line when the optional peer `healthlake-emulator` is not installed.
import { loadEmulator } from './emulator-peer';

loadEmulator('temporal-healthlake/testing', () => require.resolve('healthlake-emulator/testing'));
