// The one-line progress bar the demo and `import --wait` print. Pure, so its format is easy to check.
import type { FhirImportProgress } from '../workflows/types';

const BAR_WIDTH = 24;
/** Decimal megabytes, as HealthLake's `TotalSizeOfScannedFilesInMB` and the UI's details. */
const BYTES_PER_MB = 1_000_000;

export function formatEta(ms: number | undefined): string {
  if (ms === undefined) return 'ETA --';
  const s = Math.ceil(ms / 1000);
  return s >= 60 ? `ETA ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `ETA ${s}s`;
}

/**
 * One progress line: bar, percent, status, resources imported, MB scanned of MB landed,
 * throughput and ETA. Pure, so its format is easy to check.
 */
export function renderProgressLine(progress: FhirImportProgress, landedBytes: number | undefined): string {
  const percent = progress.percent ?? 0;
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
  const total = landedBytes === undefined ? '' : `/${(landedBytes / BYTES_PER_MB).toFixed(1)}`;
  return (
    `[${bar}] ${percent.toFixed(1).padStart(5)}%  ${progress.status.padEnd(11)} ` +
    `${progress.counts.resourcesImported.toLocaleString('en-US').padStart(7)} resources  ` +
    `${progress.counts.scannedMb.toFixed(1)}${total} MB  ${progress.counts.throughput.toFixed(2)} MB/s  ${formatEta(progress.etaMs)}`
  );
}
