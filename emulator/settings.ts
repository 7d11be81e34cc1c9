// The emulator's knobs: how fast jobs and data stores move (speed) and which AWS quotas it
// enforces (quotas). Defaults mimic AWS; FAST_SPEED is the preset for tests and the demo.

/** How fast the emulated service works. Durations in ms, rates per second; `null` = unlimited. */
export interface SpeedSettings {
  /** Import/export read rate in MB/s (1 MB = 1,000,000 bytes). `null` = as fast as possible. @default 10 */
  readonly megabytesPerSecond: number | null;
  /** Resources processed per second. `null` = unlimited. @default null */
  readonly resourcesPerSecond: number | null;
  /** How often a running job's JobProgressReport is refreshed, in ms. @default 30_000 */
  readonly progressRefreshMs: number;
  /** Time a job spends SUBMITTED (or QUEUED after its turn comes) before IN_PROGRESS, in ms. @default 60_000 */
  readonly queueDelayMs: number;
  /** Time a new data store spends CREATING, in ms. @default 600_000 */
  readonly datastoreCreateMs: number;
  /** Time a data store spends DELETING, in ms. @default 300_000 */
  readonly datastoreDeleteMs: number;
}

/** A token bucket: `ratePerSecond` refill up to `burst` tokens. */
export interface RateLimit {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size (calls allowed at once). */
  readonly burst: number;
}

/** Quotas; exceeding one answers ThrottlingException. */
export interface QuotaSettings {
  /** Each Describe and List operation, per account. @default 10 TPS, burst 10 */
  readonly describeList: RateLimit;
  /** CreateFHIRDatastore and DeleteFHIRDatastore together, per account. @default 1 per minute, burst 1 */
  readonly datastoreCreateDelete: RateLimit;
  /** StartFHIRImportJob and StartFHIRExportJob, per account. @default 25 TPS, burst 25 */
  readonly startJob: RateLimit;
  /** TagResource, UntagResource, ListTagsForResource, per account. @default 10 TPS, burst 10 */
  readonly tagging: RateLimit;
  /** QUEUED (not yet running) jobs per data store and kind. @default 25 */
  readonly maxQueuedJobsPerDatastore: number;
  /** Data stores not DELETED, per account. @default 10 */
  readonly maxDatastores: number;
}

export const AWS_SPEED: SpeedSettings = {
  megabytesPerSecond: 10,
  resourcesPerSecond: null,
  progressRefreshMs: 30_000,
  queueDelayMs: 60_000,
  datastoreCreateMs: 600_000,
  datastoreDeleteMs: 300_000,
};

/** For tests and the demo: everything moves in tens of ms, no speed limit, progress refreshed at 50 ms. */
export const FAST_SPEED: SpeedSettings = {
  megabytesPerSecond: null,
  resourcesPerSecond: null,
  progressRefreshMs: 50,
  queueDelayMs: 20,
  datastoreCreateMs: 50,
  datastoreDeleteMs: 50,
};

export const AWS_QUOTAS: QuotaSettings = {
  describeList: { ratePerSecond: 10, burst: 10 },
  datastoreCreateDelete: { ratePerSecond: 1 / 60, burst: 1 },
  startJob: { ratePerSecond: 25, burst: 25 },
  tagging: { ratePerSecond: 10, burst: 10 },
  maxQueuedJobsPerDatastore: 25,
  maxDatastores: 10,
};

/** For tests and the demo: AWS's quotas, except data stores may be created and deleted 100 at a time. */
export const FAST_QUOTAS: QuotaSettings = {
  ...AWS_QUOTAS,
  datastoreCreateDelete: { ratePerSecond: 100, burst: 100 },
  maxDatastores: 1000,
};

export const PRESETS = {
  aws: { speed: AWS_SPEED, quotas: AWS_QUOTAS },
  fast: { speed: FAST_SPEED, quotas: FAST_QUOTAS },
} as const;

export type PresetName = keyof typeof PRESETS;
