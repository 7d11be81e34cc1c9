// The FHIR resources in each data store: an in-memory map (type → id → the resource's JSON line as
// imported, so export returns it byte for byte), optionally persisted as an append-only log per
// data store, compacted (rewritten with live resources only) once superseded lines pile up.
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
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
  /** Writes buffered log lines to disk, compacting logs that carry too many superseded lines. */
  flush(): void;
  close(): void;
}

export interface FileResourceStoreOptions {
  /** Compact a log once it has this many times more lines than live resources... @default 1.5 */
  readonly compactionRatio?: number;
  /** ...and at least this many lines (small logs are not worth rewriting). @default 10_000 */
  readonly compactionMinLines?: number;
}

const FLUSH_THRESHOLD_BYTES = 4 * 1024 * 1024;
const LOG_SUFFIX = '.ndjson';

export function createMemoryResourceStore(): ResourceStore {
  return createStore(new Map(), new Map(), undefined);
}

/**
 * Loads the logs under `dir` and appends to them from then on. Log line format:
 * `<resourceType>\t<id>\t<json>`; a torn last line from a crash is skipped.
 */
export async function openFileResourceStore(
  dir: string,
  options: FileResourceStoreOptions = {},
): Promise<ResourceStore> {
  mkdirSync(dir, { recursive: true });
  const all = new Map<string, ResourcesByType>();
  const logLines = new Map<string, number>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(LOG_SUFFIX))) {
    const datastoreId = file.slice(0, -LOG_SUFFIX.length);
    const byType: ResourcesByType = new Map();
    let lines = 0;
    for await (const line of createInterface({
      input: createReadStream(join(dir, file)),
      crlfDelay: Infinity,
    })) {
      const firstTab = line.indexOf('\t');
      const secondTab = firstTab < 0 ? -1 : line.indexOf('\t', firstTab + 1);
      if (secondTab < 0 || !line.endsWith('}')) continue;
      lines += 1;
      const type = line.slice(0, firstTab);
      let ids = byType.get(type);
      if (!ids) byType.set(type, (ids = new Map<string, string>()));
      ids.set(line.slice(firstTab + 1, secondTab), line.slice(secondTab + 1));
    }
    all.set(datastoreId, byType);
    logLines.set(datastoreId, lines);
  }
  const store = createStore(all, logLines, {
    dir,
    compactionRatio: options.compactionRatio ?? 1.5,
    compactionMinLines: options.compactionMinLines ?? 10_000,
  });
  store.flush(); // compacts what needs it
  return store;
}

interface Persistence {
  readonly dir: string;
  readonly compactionRatio: number;
  readonly compactionMinLines: number;
}

function writeAll(path: string, flags: 'a' | 'w', chunks: Iterable<string>): void {
  const fd = openSync(path, flags);
  try {
    let buffer = '';
    for (const chunk of chunks) {
      buffer += chunk;
      if (buffer.length > FLUSH_THRESHOLD_BYTES) {
        writeSync(fd, buffer);
        buffer = '';
      }
    }
    if (buffer) writeSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
}

function* logLinesOf(byType: ResourcesByType): Generator<string> {
  for (const [type, ids] of byType) for (const [id, json] of ids) yield `${type}\t${id}\t${json}\n`;
}

function createStore(
  all: Map<string, ResourcesByType>,
  logLines: Map<string, number>,
  persistence: Persistence | undefined,
): ResourceStore {
  const counts = new Map<string, number>();
  for (const [datastoreId, byType] of all)
    counts.set(
      datastoreId,
      [...byType.values()].reduce((n, ids) => n + ids.size, 0),
    );
  const pending = new Map<string, string[]>();
  let pendingBytes = 0;
  const logPath = (datastoreId: string): string => join(persistence!.dir, `${datastoreId}${LOG_SUFFIX}`);

  const compactIfNeeded = (datastoreId: string, p: Persistence): void => {
    const lines = logLines.get(datastoreId) ?? 0;
    const live = counts.get(datastoreId) ?? 0;
    if (lines < p.compactionMinLines || lines <= live * p.compactionRatio) return;
    const path = logPath(datastoreId);
    writeAll(`${path}.compacting`, 'w', logLinesOf(store.byType(datastoreId)));
    renameSync(`${path}.compacting`, path);
    logLines.set(datastoreId, live);
  };

  const store: ResourceStore = {
    upsert(datastoreId, resourceType, id, json) {
      let byType = all.get(datastoreId);
      if (!byType) all.set(datastoreId, (byType = new Map<string, Map<string, string>>()));
      let ids = byType.get(resourceType);
      if (!ids) byType.set(resourceType, (ids = new Map<string, string>()));
      const existed = ids.has(id);
      ids.set(id, json);
      if (!existed) counts.set(datastoreId, (counts.get(datastoreId) ?? 0) + 1);
      if (persistence) {
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
    byType: (datastoreId) => all.get(datastoreId) ?? new Map<string, Map<string, string>>(),
    drop(datastoreId) {
      all.delete(datastoreId);
      counts.delete(datastoreId);
      pending.delete(datastoreId);
      logLines.delete(datastoreId);
      if (persistence && existsSync(logPath(datastoreId))) rmSync(logPath(datastoreId));
    },
    flush() {
      if (!persistence) return;
      for (const [datastoreId, lines] of pending) {
        writeAll(logPath(datastoreId), 'a', lines);
        logLines.set(datastoreId, (logLines.get(datastoreId) ?? 0) + lines.length);
      }
      pending.clear();
      pendingBytes = 0;
      for (const datastoreId of logLines.keys()) compactIfNeeded(datastoreId, persistence);
    },
    close() {
      store.flush();
    },
  };
  return store;
}
