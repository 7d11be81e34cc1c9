// The replay corpus: where it lives, what one file holds, and Temporal's JSON history format (what
// `temporal workflow show --output json` writes) to and from the SDK's History object.
//
// Why not the SDK's `historyToJSON`/`historyFromJSON` (@temporalio/common/lib/proto-utils): in this
// install npm keeps protobufjs 7 at the root (for @grpc/proto-loader), so @temporalio/common and
// @temporalio/proto each get their own nested protobufjs 8; common's protojson then rejects proto's
// reflection types ("TypeError: type must be a Type"), and `Worker.runReplayHistory` with a JSON
// history fails the same way. Loading protojson from the copy @temporalio/proto uses works whatever
// the hoisting.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { History } from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/** Where the corpus lives (the replay test reads every `.json` file here). */
export const HISTORIES_DIR = join(__dirname, 'histories');

/** One corpus file, `<scenario>.<sourceCommit>.json`: a history and what it shows. */
export interface RecordedHistory {
  /** What the run shows, e.g. `import-deadline-passed`. */
  readonly scenario: string;
  /** Short commit of the workflow code that recorded it. */
  readonly sourceCommit: string;
  readonly workflowType: string;
  /** Replay needs it: the workflows derive child ids, job names and gate requests from it. */
  readonly workflowId: string;
  readonly runId: string;
  /** How the run ended (`COMPLETED`, `FAILED <failure type>`, `CONTINUED_AS_NEW`), or `RUNNING` for a partial history. */
  readonly outcome: string;
  readonly recordedAt: string;
  /** `await handle.fetchHistory()` in Temporal's JSON history format ({@link historyToJson}). */
  readonly history: { readonly events: readonly unknown[] };
}

/** Every corpus file, sorted by name. */
export function readCorpus(): Array<{ readonly file: string; readonly recorded: RecordedHistory }> {
  return readdirSync(HISTORIES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      recorded: JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')) as RecordedHistory,
    }));
}

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const protojson = createRequire(require.resolve('@temporalio/proto'))(
  'protobufjs/ext/protojson',
) as ProtoJson;
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType(
  'temporal.api.history.v1.History',
);

/** A History (e.g. from `handle.fetchHistory()`) as a plain JSON object in Temporal's history format. */
export function historyToJson(history: History): { events: unknown[] } {
  return protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)) as {
    events: unknown[];
  };
}

/** Temporal's JSON history format back to a History that `Worker.runReplayHistories` accepts. */
export function historyFromJson(json: unknown): History {
  // Fields a newer server adds are ignored rather than rejected: old code must still read them.
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (history === null || typeof history !== 'object') throw new TypeError('not a history');
  return history;
}
