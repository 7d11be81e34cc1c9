// The fake import jobs every benchmark strategy waits for: exact timelines (so detection latency is
// measured against a known end), seeded so two runs with one seed see the same jobs, and described
// in production time so one time-scale factor turns them into bench time.

/** A seeded uniform [0, 1) source (mulberry32): the same seed gives the same jobs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** One job's timeline in production milliseconds, from its submit. */
export interface JobTimeline {
  /** Time SUBMITTED before IN_PROGRESS. */
  readonly submittedMs: number;
  /** Time IN_PROGRESS before COMPLETED. */
  readonly runMs: number;
  /** The nominal length bucket (log-spaced 5-120 min), for the per-length figures. */
  readonly nominalMinutes: number;
  /** Bytes the job reads (10 MB/s over `runMs`): the "known total" a manifest or S3 listing gives. */
  readonly totalBytes: number;
}

/** HealthLake refreshes `JobProgressReport` about every 30 s (emulator default; AWS does not say). */
export const REPORT_REFRESH_MS = 30_000;
/** The fake's read rate: only the ratio to `totalBytes` matters (the ETA comes from the pace). */
export const MEGABYTES_PER_SECOND = 10;

/**
 * `count` jobs whose IN_PROGRESS lengths are log-spaced from `minMinutes` to `maxMinutes`, each
 * with a random end phase: SUBMITTED for 10-70 s and up to 120 s (the AWS waiter's period) added to
 * the run, both drawn from `seed`, so no strategy's fixed grid lines up with the ends.
 */
export function makeJobTimelines(
  count: number,
  seed: number,
  minMinutes = 5,
  maxMinutes = 120,
): JobTimeline[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const nominalMinutes =
      count === 1 ? maxMinutes : minMinutes * Math.pow(maxMinutes / minMinutes, i / (count - 1));
    const submittedMs = Math.round(10_000 + random() * 60_000);
    const runMs = Math.round(nominalMinutes * 60_000 + random() * 120_000);
    return {
      submittedMs,
      runMs,
      nominalMinutes: Math.round(nominalMinutes * 10) / 10,
      totalBytes: Math.round((runMs / 1000) * MEGABYTES_PER_SECOND * 1_000_000),
    };
  });
}

/** What a Describe (or a List entry) of a timeline job shows at `elapsedMs` (production ms since submit). */
export function jobStateAt(
  timeline: JobTimeline,
  elapsedMs: number,
): {
  status: 'SUBMITTED' | 'IN_PROGRESS' | 'COMPLETED';
  scannedMb: number;
  resources: number;
  files: number;
} {
  if (elapsedMs < timeline.submittedMs) return { status: 'SUBMITTED', scannedMb: 0, resources: 0, files: 0 };
  const run = elapsedMs - timeline.submittedMs;
  if (run >= timeline.runMs) {
    const mb = timeline.totalBytes / 1_000_000;
    return {
      status: 'COMPLETED',
      scannedMb: mb,
      resources: Math.round(mb * 1_000),
      files: Math.ceil(mb / 100),
    };
  }
  // The report moves in REPORT_REFRESH_MS steps, as HealthLake's does.
  const reported = Math.floor(run / REPORT_REFRESH_MS) * REPORT_REFRESH_MS;
  const mb = Math.round((reported / timeline.runMs) * (timeline.totalBytes / 1_000_000) * 1000) / 1000;
  return {
    status: 'IN_PROGRESS',
    scannedMb: mb,
    resources: Math.round(mb * 1_000),
    files: Math.floor(mb / 100),
  };
}

/** Nearest-rank percentile of `values` (0 for none). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Mean of `values`, one decimal (0 for none). */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  return Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10;
}
