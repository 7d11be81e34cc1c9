// The emulator's controls as one object, shared by the programmatic handle and the control API.
import type { CreateFailure, DatastoreLifecycleEngine } from './engine/datastore-lifecycle';
import type { JobEngine } from './engine/scheduler';
import type { EventCounters, EventFaultRule, JobEvents } from './events';
import type { CallCounters, FaultInjector, Faults, OperationCounters } from './faults';
import type { Settings } from './operations/context';
import type { QuotaSettings, SpeedSettings } from './settings';
import type { JobProgress } from './state/records';
import type { StateStore } from './state/state-store';

/** A job as the control API lists it: the AWS properties plus what only the emulator knows. */
export interface JobSummary {
  readonly kind: 'import' | 'export';
  readonly jobId: string;
  readonly datastoreId: string;
  readonly jobName?: string;
  readonly status: string;
  readonly submitTimeMs: number;
  readonly endTimeMs?: number;
  readonly message?: string;
  readonly progress?: JobProgress;
  /** True while the job is held by `hang`. */
  readonly hung: boolean;
  /** Times the job was restarted after an emulator restart. */
  readonly restarts: number;
}

export interface SettingsUpdate {
  readonly speed?: Partial<SpeedSettings>;
  readonly quotas?: Partial<QuotaSettings>;
}

export interface EmulatorControls {
  /** Per-operation call, throttle and error counts since start (or the last reset). */
  counters(): Record<string, OperationCounters>;
  resetCounters(): void;
  readonly faults: Faults;
  readonly jobs: {
    list(): JobSummary[];
    /** Ends the job FAILED with `message`; false when unknown or already finished. */
    fail(jobId: string, message: string): boolean;
    /** Holds the job where it is until released; false when unknown or finished. */
    hang(jobId: string): boolean;
    /** Lets a held job go on; false when it was not held. */
    release(jobId: string): boolean;
  };
  readonly datastores: {
    /** The next data store created named `datastoreName` ends CREATE_FAILED with this ErrorCause. */
    failCreate(datastoreName: string, cause: CreateFailure): void;
  };
  settings(): { speed: SpeedSettings; quotas: QuotaSettings };
  /** Changes knobs on the fly (running jobs pick up speed changes at once). */
  updateSettings(update: SettingsUpdate): void;
  /** HealthLake's EventBridge job and data store events, sent to an SQS queue (emulator/events.ts). */
  readonly events: {
    /** The queue events go to, or undefined when events are off. */
    readonly queueUrl: string | undefined;
    counters(): EventCounters;
    faults(): readonly EventFaultRule[];
    /** Replaces the fault rules: drop, delay or duplicate events by detail-type ([] delivers all). */
    setFaults(rules: readonly EventFaultRule[]): void;
    /** Resolves when every event sent so far (delayed ones included) has been answered by SQS. */
    flushed(): Promise<void>;
  };
}

export function createEmulatorControls(deps: {
  readonly state: StateStore;
  readonly engine: JobEngine;
  readonly faults: FaultInjector;
  readonly counters: CallCounters;
  readonly settings: Settings;
  readonly lifecycle?: Pick<DatastoreLifecycleEngine, 'failCreate'>;
  readonly events: JobEvents;
}): EmulatorControls {
  const { state, engine, faults, counters, settings } = deps;
  return {
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    faults: {
      set: (operation, spec) => faults.set(operation, spec),
      clear: (operation) => faults.clear(operation),
      list: () => faults.list(),
    },
    jobs: {
      list: () =>
        [...state.jobs.values()].map((job) => ({
          kind: job.kind,
          jobId: job.jobId,
          datastoreId: job.datastoreId,
          jobName: job.jobName,
          status: job.status,
          submitTimeMs: job.submitTimeMs,
          endTimeMs: job.endTimeMs,
          message: job.message,
          progress: job.progress,
          hung: engine.isHung(job.jobId),
          restarts: job.restarts,
        })),
      fail: (jobId, message) => engine.fail(jobId, message),
      hang: (jobId) => engine.hang(jobId),
      release: (jobId) => engine.release(jobId),
    },
    datastores: {
      failCreate(datastoreName, cause) {
        if (!deps.lifecycle) throw new Error('this emulator has no data store lifecycle to fail');
        deps.lifecycle.failCreate(datastoreName, cause);
      },
    },
    events: {
      queueUrl: deps.events.queueUrl,
      counters: () => deps.events.counters(),
      faults: () => deps.events.faults(),
      setFaults: (rules) => deps.events.setFaults(rules),
      flushed: () => deps.events.flushed(),
    },
    settings: () => structuredClone(settings),
    updateSettings(update) {
      settings.speed = { ...settings.speed, ...update.speed };
      settings.quotas = { ...settings.quotas, ...update.quotas };
    },
  };
}
