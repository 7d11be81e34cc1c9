// Data stores, jobs and resources, in memory and (with a data directory) on disk: records in
// `state.json` (rewritten atomically on every change that matters), resources in per-data-store
// logs under `resources/`.
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { EmulatorStartError, EmulatorStartProblem, systemErrorDetail } from '../errors';
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

/**
 * Opens the state under `dataDir` (created when missing), or an empty in-memory state.
 * @throws EmulatorStartError naming the folder or file and the problem: a data directory that
 *   cannot be created or written, a `state.json` that cannot be read, is not JSON, or is not the
 *   emulator's state of this version. The file is never overwritten in that case.
 */
export async function openStateStore(dataDir?: string): Promise<StateStore> {
  const datastores = new Map<string, DatastoreRecord>();
  const jobs = new Map<string, JobRecord>();
  if (!dataDir) return createStateStore(datastores, jobs, createMemoryResourceStore(), undefined);

  const dirProblem = (err: unknown, what: string): EmulatorStartError =>
    new EmulatorStartError(
      EmulatorStartProblem.DataDir,
      `data directory ${dataDir} ${what} (${systemErrorDetail(err)}); pass a writable --data-dir`,
    );
  try {
    mkdirSync(dataDir, { recursive: true });
    // Fail now, not at the first status change: every save writes state.json.tmp here.
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    throw dirProblem(err, 'cannot be created or written');
  }
  const statePath = join(dataDir, STATE_FILE);
  if (existsSync(statePath)) {
    const file = readStateFile(statePath);
    for (const record of file.datastores) datastores.set(record.datastoreId, record);
    for (const record of file.jobs) jobs.set(record.jobId, record);
  }
  let resources: ResourceStore;
  try {
    resources = await openFileResourceStore(join(dataDir, 'resources'));
  } catch (err) {
    throw dirProblem(err, 'has an unreadable resources/ folder');
  }
  return createStateStore(datastores, jobs, resources, dataDir);
}

/** Reads and checks `state.json`; every problem names the file and says what to do. */
function readStateFile(statePath: string): StateFile {
  const problem = (what: string): EmulatorStartError =>
    new EmulatorStartError(
      EmulatorStartProblem.StateFile,
      `state file ${statePath} ${what}; move it away or fix it`,
    );
  let text: string;
  try {
    text = readFileSync(statePath, 'utf8');
  } catch (err) {
    throw problem(`cannot be read (${systemErrorDetail(err)})`);
  }
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch (err) {
    throw problem(`is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw problem('is not a JSON object');
  const { version, datastores, jobs } = file as Partial<Record<keyof StateFile, unknown>>;
  if (version !== STATE_VERSION)
    throw problem(
      `has state version ${JSON.stringify(version)}; this emulator reads version ${STATE_VERSION}`,
    );
  if (!Array.isArray(datastores) || !Array.isArray(jobs))
    throw problem('must have "datastores" and "jobs" arrays');
  return file as StateFile;
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
