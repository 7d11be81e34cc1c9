// Keeps a job at or under the configured speed (MB/s and resources/s), measured on the real
// monotonic clock: the job asks how far ahead of the limit it is and sleeps that long.
import { performance } from 'node:perf_hooks';
import type { SpeedSettings } from '../settings';

const BYTES_PER_MB = 1_000_000;

/** Seconds the work done so far should take at the configured speed (0 when unlimited). */
export function minimumElapsedSeconds(speed: SpeedSettings, bytes: number, resources: number): number {
  const byBytes = speed.megabytesPerSecond === null ? 0 : bytes / (speed.megabytesPerSecond * BYTES_PER_MB);
  const byResources = speed.resourcesPerSecond === null ? 0 : resources / speed.resourcesPerSecond;
  return Math.max(byBytes, byResources);
}

export const isSpeedLimited = (speed: SpeedSettings): boolean =>
  speed.megabytesPerSecond !== null || speed.resourcesPerSecond !== null;

export interface Pacer {
  /** How many ms the job is ahead of its speed limit (≤ 0: go on). */
  aheadMs(speed: SpeedSettings, bytes: number, resources: number): number;
  /** Seconds since the pacer was created. */
  elapsedSeconds(): number;
}

export function createPacer(): Pacer {
  const startedAt = performance.now();
  const elapsedSeconds = (): number => (performance.now() - startedAt) / 1000;
  return {
    aheadMs: (speed, bytes, resources) =>
      (minimumElapsedSeconds(speed, bytes, resources) - elapsedSeconds()) * 1000,
    elapsedSeconds,
  };
}
