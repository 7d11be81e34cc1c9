// Data stores, jobs and resources, in memory and (with a data directory) on disk: records in
// `state.json` (rewritten atomically on every change that matters), resources in per-data-store
// logs under `resources/`.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DatastoreRecord, JobRecord } from './records';
import { createMemoryResourceStore, openFileResourceStore, type ResourceStore } from './resource-store';

export interface StateStore {
  readonly datastores: Map<string, DatastoreRecord>;
  readonly jobs: Map<string, JobRecord>;
  readonly resources: ResourceStore;
  /** Where state lives; undefined in memory mode. */
  readonly dataDir?: string;
  /** Persists the records now (status changes: a restart must see them). */
  save(): void;
  /** Persists the records soon, coalescing bursts (progress reports). */
  saveSoon(): void;
  /** Flushes everything and stops timers. */
  close(): void;
}

const STATE_FILE = 'state.json';
const STATE_VERSION = 1;
const SAVE_SOON_MS = 200;

interface StateFile {
  readonly version: number;
  readonly datastores: DatastoreRecord[];
  readonly jobs: JobRecord[];
}

/** Opens the state under `dataDir` (created when missing), or an empty in-memory state. */
export async function openStateStore(dataDir?: string): Promise<StateStore> {
  const datastores = new Map<string, DatastoreRecord>();
  const jobs = new Map<string, JobRecord>();
  if (!dataDir) return createStateStore(datastores, jobs, createMemoryResourceStore(), undefined);

  mkdirSync(dataDir, { recursive: true });
  const statePath = join(dataDir, STATE_FILE);
  if (existsSync(statePath)) {
    const file = JSON.parse(readFileSync(statePath, 'utf8')) as StateFile;
    if (file.version !== STATE_VERSION)
      throw new Error(
        `${statePath} has state version ${file.version}; this emulator reads version ${STATE_VERSION}`,
      );
    for (const record of file.datastores) datastores.set(record.datastoreId, record);
    for (const record of file.jobs) jobs.set(record.jobId, record);
  }
  const resources = await openFileResourceStore(join(dataDir, 'resources'));
  return createStateStore(datastores, jobs, resources, dataDir);
}

function createStateStore(
  datastores: Map<string, DatastoreRecord>,
  jobs: Map<string, JobRecord>,
  resources: ResourceStore,
  dataDir: string | undefined,
): StateStore {
  let timer: NodeJS.Timeout | undefined;
  const save = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!dataDir) return;
    // Resources first: a record saying a job imported N resources must not outlive the resources.
    resources.flush();
    const statePath = join(dataDir, STATE_FILE);
    const file: StateFile = {
      version: STATE_VERSION,
      datastores: [...datastores.values()],
      jobs: [...jobs.values()],
    };
    writeFileSync(`${statePath}.tmp`, JSON.stringify(file));
    renameSync(`${statePath}.tmp`, statePath);
  };
  return {
    datastores,
    jobs,
    resources,
    dataDir,
    save,
    saveSoon() {
      if (dataDir && !timer) timer = setTimeout(save, SAVE_SOON_MS);
    },
    close() {
      save();
      resources.close();
    },
  };
}
