// Installs the Temporal Runtime once per test process with a quieter logger, so test output shows test results.
import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

export function quietTemporalRuntime(): void {
  if (installed) return;
  installed = true;
  Runtime.install({ logger: new DefaultLogger('WARN') });
}
