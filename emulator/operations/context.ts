// What an operation handler works with: the state, the account it emulates, the clock, and the
// engines that move data stores and jobs along on their own.
import type { QuotaSettings, SpeedSettings } from '../settings';
import type { StateStore } from '../state/state-store';
import type { DatastoreRecord, JobRecord } from '../state/records';

/** A type as it travels in awsJson1_0: `Date`s are epoch seconds. */
export type OnWire<T> = T extends Date
  ? number
  : T extends (infer U)[]
    ? OnWire<U>[]
    : T extends object
      ? { [K in keyof T]: OnWire<T[K]> }
      : T;

export interface Settings {
  speed: SpeedSettings;
  quotas: QuotaSettings;
}

export interface JobScheduler {
  /** Takes a new job (already in state as SUBMITTED or QUEUED) into its data store's FIFO lane. */
  enqueue(job: JobRecord): void;
  /** How many jobs wait (QUEUED or SUBMITTED, not running) in a data store's lane. */
  waiting(datastoreId: string, kind: JobRecord['kind']): number;
  /** True when the lane has no running job and nothing waiting. */
  idle(datastoreId: string, kind: JobRecord['kind']): boolean;
}

export interface DatastoreLifecycle {
  /** Arms the timer that finishes the data store's current transition (CREATING or DELETING). */
  track(datastore: DatastoreRecord): void;
}

export interface ServiceContext {
  readonly state: StateStore;
  readonly region: string;
  readonly accountId: string;
  readonly settings: Settings;
  readonly scheduler: JobScheduler;
  readonly lifecycle: DatastoreLifecycle;
  nowMs(): number;
  /** A new 32-hex-character id, the shape of AWS's data store and job ids. */
  newId(): string;
  /** Where job status changes go as EventBridge events (emulator/events.ts). @default none */
  readonly jobEvents?: JobEventSink;
  /** Where data store status changes go as EventBridge events (emulator/events.ts). @default none */
  readonly datastoreEvents?: DatastoreEventSink;
}

/** Receives job status changes (the EventBridge events publisher). */
export interface JobEventSink {
  /** A job was created, SUBMITTED or QUEUED. */
  jobCreated(job: JobRecord): void;
  /** A job entered `job.status` (IN_PROGRESS or a terminal status). */
  jobChanged(job: JobRecord): void;
}

/** Receives data store status changes (the EventBridge events publisher). */
export interface DatastoreEventSink {
  /** A data store entered `datastore.status` (CREATING, ACTIVE, CREATE_FAILED, DELETING, DELETED). */
  datastoreChanged(datastore: DatastoreRecord): void;
}

export const toSeconds = (ms: number): number => ms / 1000;
export const toMs = (seconds: number): number => seconds * 1000;

/** A stable fingerprint of a request, for ClientToken idempotency (key order does not matter). */
export function fingerprint(request: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([k, v]) => k !== 'ClientToken' && v !== undefined)
              .sort(([a], [b]) => (a < b ? -1 : 1))
              .map(([k, v]) => [k, canonical(v)]),
          )
        : value;
  return JSON.stringify(canonical(request));
}
