// Moves data stores through their transitions on timers: CREATING → ACTIVE after the create
// delay, DELETING → DELETED (and its resources dropped) after the delete delay. Re-armed from the
// recorded start of the transition after a restart. Each status it sets is published as an event.
import type { DatastoreEventSink, DatastoreLifecycle, Settings } from '../operations/context';
import type { DatastoreRecord } from '../state/records';
import type { StateStore } from '../state/state-store';

/** HealthLake's `ErrorCause` of a data store that ended CREATE_FAILED. */
export interface CreateFailure {
  readonly ErrorMessage: string;
  /** @default 'NON_RETRYABLE_ERROR' */
  readonly ErrorCategory?: 'RETRYABLE_ERROR' | 'NON_RETRYABLE_ERROR';
}

export interface DatastoreLifecycleEngine extends DatastoreLifecycle {
  /**
   * The next data store created with this name ends CREATE_FAILED with `cause` instead of ACTIVE
   * (once; AWS reaches CREATE_FAILED only on service-side problems a client cannot provoke).
   */
  failCreate(datastoreName: string, cause: CreateFailure): void;
  /** Arms timers for every data store found mid-transition in state. */
  resume(): void;
  stop(): void;
}

export function createDatastoreLifecycle(
  state: StateStore,
  settings: Settings,
  nowMs: () => number,
  events?: DatastoreEventSink,
): DatastoreLifecycleEngine {
  const timers = new Set<NodeJS.Timeout>();
  const createFailures = new Map<string, CreateFailure>();
  const complete = (record: DatastoreRecord): void => {
    const failure = record.datastoreName === undefined ? undefined : createFailures.get(record.datastoreName);
    if (record.status === 'CREATING' && failure !== undefined) {
      createFailures.delete(record.datastoreName!);
      record.status = 'CREATE_FAILED';
      record.errorCause = {
        ErrorMessage: failure.ErrorMessage,
        ErrorCategory: failure.ErrorCategory ?? 'NON_RETRYABLE_ERROR',
      };
    } else if (record.status === 'CREATING') record.status = 'ACTIVE';
    else if (record.status === 'DELETING') {
      record.status = 'DELETED';
      state.resources.drop(record.datastoreId);
    } else return;
    record.statusSinceMs = nowMs();
    state.save();
    events?.datastoreChanged(record);
  };
  const lifecycle: DatastoreLifecycleEngine = {
    track(record) {
      const durationMs =
        record.status === 'CREATING'
          ? settings.speed.datastoreCreateMs
          : record.status === 'DELETING'
            ? settings.speed.datastoreDeleteMs
            : undefined;
      if (durationMs === undefined) return;
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          complete(record);
        },
        Math.max(0, record.statusSinceMs + durationMs - nowMs()),
      );
      timers.add(timer);
    },
    failCreate(datastoreName, cause) {
      createFailures.set(datastoreName, cause);
    },
    resume() {
      for (const record of state.datastores.values()) lifecycle.track(record);
    },
    stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
  return lifecycle;
}
