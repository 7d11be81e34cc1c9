// The FHIR resources in each data store: an in-memory map (type → id → the resource's JSON line as
// imported, so export returns it byte for byte), optionally persisted as an append-only log per
// data store that is compacted when it loads with many superseded lines.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** type → id → resource JSON line. */
export type ResourcesByType = Map<string, Map<string, string>>;

export interface ResourceStore {
  /** Inserts or replaces a resource; says which. */
  upsert(datastoreId: string, resourceType: string, id: string, json: string): 'created' | 'updated';
  /** Number of resources in a data store. */
  count(datastoreId: string): number;
  /** The data store's resources, by type (live view: do not mutate). */
  byType(datastoreId: string): ResourcesByType;
  /** Forgets a data store's resources (when it is DELETED). */
  drop(datastoreId: string): void;
  /** Writes buffered log lines to disk. */
  flush(): void;
  close(): void;
}

const FLUSH_THRESHOLD_BYTES = 4 * 1024 * 1024;
const LOG_SUFFIX = '.ndjson';
/** A log is compacted at load when it holds this many times more lines than live resources. */
const COMPACTION_RATIO = 1.5;

export function createMemoryResourceStore(): ResourceStore {
  return createStore(new Map(), undefined);
}

/**
 * Loads (and compacts) the logs under `dir` and appends to them from then on. Log line format:
 * `<resourceType>\t<id>\t<json>`; a torn last line from a crash is skipped.
 */
export async function openFileResourceStore(dir: string): Promise<ResourceStore> {
  mkdirSync(dir, { recursive: true });
  const all = new Map<string, ResourcesByType>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(LOG_SUFFIX))) {
    const datastoreId = file.slice(0, -LOG_SUFFIX.length);
    const path = join(dir, file);
    const byType: ResourcesByType = new Map();
    let lines = 0;
    let live = 0;
    for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
      const firstTab = line.indexOf('\t');
      const secondTab = firstTab < 0 ? -1 : line.indexOf('\t', firstTab + 1);
      if (secondTab < 0 || !line.endsWith('}')) continue;
      lines += 1;
      const type = line.slice(0, firstTab);
      let ids = byType.get(type);
      if (!ids) byType.set(type, (ids = new Map<string, string>()));
      if (!ids.has(line.slice(firstTab + 1, secondTab))) live += 1;
      ids.set(line.slice(firstTab + 1, secondTab), line.slice(secondTab + 1));
    }
    all.set(datastoreId, byType);
    if (lines > live * COMPACTION_RATIO) compact(path, byType);
  }
  return createStore(all, dir);
}

function compact(path: string, byType: ResourcesByType): void {
  const tmp = `${path}.compacting`;
  const fd = openSync(tmp, 'w');
  try {
    let buffer = '';
    for (const [type, ids] of byType)
      for (const [id, json] of ids) {
        buffer += `${type}\t${id}\t${json}\n`;
        if (buffer.length > FLUSH_THRESHOLD_BYTES) {
          writeSync(fd, buffer);
          buffer = '';
        }
      }
    writeSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function createStore(all: Map<string, ResourcesByType>, dir: string | undefined): ResourceStore {
  const counts = new Map<string, number>();
  for (const [datastoreId, byType] of all)
    counts.set(
      datastoreId,
      [...byType.values()].reduce((n, ids) => n + ids.size, 0),
    );
  const pending = new Map<string, string[]>();
  let pendingBytes = 0;
  const logPath = (datastoreId: string): string => join(dir!, `${datastoreId}${LOG_SUFFIX}`);

  const store: ResourceStore = {
    upsert(datastoreId, resourceType, id, json) {
      let byType = all.get(datastoreId);
      if (!byType) all.set(datastoreId, (byType = new Map<string, Map<string, string>>()));
      let ids = byType.get(resourceType);
      if (!ids) byType.set(resourceType, (ids = new Map<string, string>()));
      const existed = ids.has(id);
      ids.set(id, json);
      if (!existed) counts.set(datastoreId, (counts.get(datastoreId) ?? 0) + 1);
      if (dir) {
        const line = `${resourceType}\t${id}\t${json}\n`;
        let lines = pending.get(datastoreId);
        if (!lines) pending.set(datastoreId, (lines = []));
        lines.push(line);
        pendingBytes += line.length;
        if (pendingBytes > FLUSH_THRESHOLD_BYTES) store.flush();
      }
      return existed ? 'updated' : 'created';
    },
    count: (datastoreId) => counts.get(datastoreId) ?? 0,
    byType: (datastoreId) => all.get(datastoreId) ?? new Map(),
    drop(datastoreId) {
      all.delete(datastoreId);
      counts.delete(datastoreId);
      pending.delete(datastoreId);
      if (dir && existsSync(logPath(datastoreId))) rmSync(logPath(datastoreId));
    },
    flush() {
      if (!dir) return;
      for (const [datastoreId, lines] of pending) {
        const fd = openSync(logPath(datastoreId), 'a');
        try {
          writeSync(fd, lines.join(''));
        } finally {
          closeSync(fd);
        }
      }
      pending.clear();
      pendingBytes = 0;
    },
    close() {
      store.flush();
    },
  };
  return store;
}
