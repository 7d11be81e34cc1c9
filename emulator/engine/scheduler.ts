// Runs jobs: one import and one export at a time per data store, later ones QUEUED in FIFO order,
// each waiting the queue delay before IN_PROGRESS. Owns the per-job controls (fail, hang, release)
// and resumes unfinished jobs after a restart.
import type { S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JobEventSink, JobScheduler, Settings } from '../operations/context';
import type { StateStore } from '../state/state-store';
import { emptyProgress, isTerminal, type JobKind, type JobProgress, type JobRecord } from '../state/records';
import { runExport } from './export-job';
import { runImport } from './import-job';
import { createJobControl, EmulatorStopping, ForcedFailure, type JobControl } from './job-control';
import { createPacer, isSpeedLimited } from './pacing';
import { failed, type JobOutcome, type ResourceLineCheck } from './runtime';

/** Longest single sleep while pacing, so fail/hang/stop requests are seen promptly, in ms. */
const MAX_PACING_SLEEP_MS = 100;

export interface JobEngineDeps {
  readonly state: StateStore;
  readonly settings: Settings;
  readonly s3: S3Client;
  readonly checkResourceLine: ResourceLineCheck;
  nowMs(): number;
  /** Reports an unexpected engine error (never resource contents). @default console.error */
  readonly onError?: (message: string) => void;
  /** Where status changes go as EventBridge events. @default none */
  readonly jobEvents?: JobEventSink;
}

export interface JobEngine extends JobScheduler {
  /** Ends a job FAILED with `message` (queued: at once; running: at its next checkpoint). */
  fail(jobId: string, message: string): boolean;
  /** Holds a job where it is (before IN_PROGRESS or mid-run) until released. */
  hang(jobId: string): boolean;
  release(jobId: string): boolean;
  isHung(jobId: string): boolean;
  /** Re-queues every unfinished job found in state (after a restart), running ones first. */
  resume(): void;
  /** Resolves when no job is running or waiting. */
  settled(): Promise<void>;
  /** Stops running jobs at their next checkpoint (they stay IN_PROGRESS for resume) and waits. */
  stop(): Promise<void>;
}

interface Lane {
  running?: string;
  readonly queue: string[];
}

export function createJobEngine(deps: JobEngineDeps): JobEngine {
  const { state, settings } = deps;
  const lanes = new Map<string, Lane>();
  const controls = new Map<string, JobControl>();
  const runs = new Set<Promise<void>>();
  let stopped = false;
  const stopping = new AbortController();
  const pause = (ms: number): Promise<void> =>
    sleep(ms, undefined, { signal: stopping.signal }).catch(() => {
      throw new EmulatorStopping('emulator stopping');
    });
  const laneOf = (datastoreId: string, kind: JobKind): Lane => {
    const key = `${datastoreId}:${kind}`;
    let lane = lanes.get(key);
    if (!lane) lanes.set(key, (lane = { queue: [] }));
    return lane;
  };
  const controlOf = (jobId: string): JobControl => {
    let control = controls.get(jobId);
    if (!control) controls.set(jobId, (control = createJobControl()));
    return control;
  };

  const finish = (job: JobRecord, outcome: JobOutcome): void => {
    job.status = outcome.status;
    job.message = outcome.message;
    job.endTimeMs = deps.nowMs();
    controls.delete(job.jobId);
    state.save();
    deps.jobEvents?.jobChanged(job);
  };

  const pump = (lane: Lane): void => {
    if (stopped || lane.running !== undefined) return;
    const jobId = lane.queue.shift();
    if (jobId === undefined) return;
    lane.running = jobId;
    const run = execute(state.jobs.get(jobId)!).finally(() => {
      runs.delete(run);
      if (lane.running === jobId) lane.running = undefined;
      pump(lane);
    });
    runs.add(run);
  };

  async function execute(job: JobRecord): Promise<void> {
    const control = controlOf(job.jobId);
    try {
      if (job.status !== 'IN_PROGRESS') {
        await pause(settings.speed.queueDelayMs);
        await control.checkpoint();
        job.status = 'IN_PROGRESS';
        if (job.kind === 'import') job.progress = emptyProgress();
        state.save();
        deps.jobEvents?.jobChanged(job);
      }
      finish(job, await runJob(job, control));
    } catch (err) {
      if (err instanceof EmulatorStopping) return;
      if (err instanceof ForcedFailure) return finish(job, failed(err.message));
      (deps.onError ?? console.error)(
        `emulator: job ${job.jobId} failed unexpectedly: ${err instanceof Error ? err.name + ': ' + err.message : 'error'}`,
      );
      finish(
        job,
        failed(`Internal error while running the job (${err instanceof Error ? err.name : 'error'})`),
      );
    }
  }

  async function runJob(job: JobRecord, control: JobControl): Promise<JobOutcome> {
    const pacer = createPacer();
    let lastPublishMs = Number.NEGATIVE_INFINITY;
    let pending: JobProgress | undefined;
    const publish = (progress: JobProgress, force = false): void => {
      pending = progress;
      const now = deps.nowMs();
      if (!force && now - lastPublishMs < settings.speed.progressRefreshMs) return;
      lastPublishMs = now;
      const elapsed = pacer.elapsedSeconds();
      job.progress = {
        ...progress,
        Throughput: elapsed > 0 ? progress.TotalSizeOfScannedFilesInMB / elapsed : 0,
      };
      state.saveSoon();
    };
    const runtime = {
      job,
      s3: deps.s3,
      resources: state.resources,
      checkResourceLine: deps.checkResourceLine,
      paced: isSpeedLimited(settings.speed),
      async step(bytes: number, resources: number) {
        await control.checkpoint();
        for (;;) {
          const ahead = pacer.aheadMs(settings.speed, bytes, resources);
          if (ahead <= 0) return;
          await pause(Math.min(ahead, MAX_PACING_SLEEP_MS));
          await control.checkpoint();
        }
      },
    };
    if (job.kind === 'export') return runExport(runtime);
    const outcome = await runImport(runtime, publish);
    if (pending) publish(pending, true);
    return outcome;
  }

  const engine: JobEngine = {
    enqueue(job) {
      laneOf(job.datastoreId, job.kind).queue.push(job.jobId);
      pump(laneOf(job.datastoreId, job.kind));
    },
    waiting: (datastoreId, kind) => laneOf(datastoreId, kind).queue.length,
    idle: (datastoreId, kind) => {
      const lane = laneOf(datastoreId, kind);
      return lane.running === undefined && lane.queue.length === 0;
    },
    fail(jobId, message) {
      const job = state.jobs.get(jobId);
      if (!job || isTerminal(job.status)) return false;
      const lane = laneOf(job.datastoreId, job.kind);
      const queued = lane.queue.indexOf(jobId);
      if (queued >= 0) {
        lane.queue.splice(queued, 1);
        finish(job, failed(message));
      } else controlOf(jobId).fail(message);
      return true;
    },
    hang(jobId) {
      const job = state.jobs.get(jobId);
      if (!job || isTerminal(job.status)) return false;
      controlOf(jobId).hang();
      return true;
    },
    release(jobId) {
      const control = controls.get(jobId);
      if (!control?.hung) return false;
      control.release();
      return true;
    },
    isHung: (jobId) => controls.get(jobId)?.hung ?? false,
    resume() {
      const unfinished = [...state.jobs.values()]
        .filter((j) => !isTerminal(j.status))
        .sort(
          (a, b) =>
            Number(b.status === 'IN_PROGRESS') - Number(a.status === 'IN_PROGRESS') ||
            a.submitTimeMs - b.submitTimeMs,
        );
      for (const job of unfinished) {
        if (job.status === 'IN_PROGRESS') {
          // Import upserts by id, so running the job again from its first line gives the same result.
          job.restarts += 1;
          if (job.kind === 'import') job.progress = emptyProgress();
        }
        engine.enqueue(job);
      }
      state.save();
    },
    async settled() {
      while (runs.size > 0) await Promise.allSettled([...runs]);
    },
    async stop() {
      stopped = true;
      stopping.abort();
      for (const control of controls.values()) control.stop();
      await Promise.allSettled([...runs]);
    },
  };
  return engine;
}
