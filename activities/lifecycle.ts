// The export and data store activities together, for a worker: registered when the HealthLake
// client has those operations (the SDK's `HealthLake` class and `healthLakeApi(client)` do; a
// narrow import-only fake does not, and then nothing is registered).
import { createDatastoreActivities } from './datastore';
import { createExportActivities } from './export';
import { isFullHealthLakeApi, type HealthLakeImportApi } from './healthlake-api';

/** Dependencies of {@link createLifecycleActivities}. */
export interface LifecycleActivityDeps {
  readonly healthLake: HealthLakeImportApi;
  /** Epoch ms. @default Date.now */
  readonly clock?: (() => number) | undefined;
  /** Uniform [0, 1), for poll jitter. @default Math.random */
  readonly random?: (() => number) | undefined;
}

/** Export and data store activities, or none when `healthLake` lacks their operations. */
export function createLifecycleActivities(deps: LifecycleActivityDeps) {
  const { healthLake } = deps;
  if (!isFullHealthLakeApi(healthLake)) return {};
  const common = {
    healthLake,
    ...(deps.clock === undefined ? {} : { clock: deps.clock }),
    ...(deps.random === undefined ? {} : { random: deps.random }),
  };
  return { ...createExportActivities(common), ...createDatastoreActivities(common) };
}
