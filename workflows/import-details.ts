// The import's "current details" in the Temporal UI: what a person sees first on a running import.
// Pure (no workflow API), so its format is tested directly. Units and rounding match the CLI's
// progress line (decimal MB, throughput in MB/s with two decimals).
import type { FhirImportProgress } from './types';

const n = (value: number): string => value.toLocaleString('en-US');

/** `45 s`, `2 min 05 s`, `1 h 02 min`: an ETA a person reads at a glance. */
export function formatEtaMs(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * A heading and an aligned two-column block (labels padded, so values line up and never run into
 * the labels whatever width the UI gives the panel).
 */
export function renderImportDetails(progress: FhirImportProgress): string {
  const c = progress.counts;
  const rows: Array<[string, string]> = [
    ['status', progress.status],
    ['job', progress.jobId ?? '(not started)'],
  ];
  if (progress.percent !== undefined) rows.push(['progress', `${progress.percent.toFixed(1)} %`]);
  if (progress.etaMs !== undefined) rows.push(['ETA', formatEtaMs(progress.etaMs)]);
  rows.push(
    ['resources imported', `${n(c.resourcesImported)} of ${n(c.resourcesScanned)} scanned`],
    ['resources rejected', n(c.resourcesWithCustomerError)],
    [
      'files',
      `${n(c.importedFiles)} imported of ${n(c.scannedFiles)} scanned, ${n(c.filesReadWithCustomerError)} unreadable`,
    ],
    ['data scanned', `${c.scannedMb.toFixed(1)} MB`],
    ['throughput', `${c.throughput.toFixed(2)} MB/s`],
    ['Describe calls', n(progress.describeCalls)],
    ['last change', progress.lastChangeAt ?? '-'],
  );
  const events = progress.jobEvents;
  if (events !== undefined) {
    const how =
      events.detectedBy === 'event'
        ? 'end detected by event'
        : events.detectedBy === 'poll'
          ? 'end detected by polling'
          : events.fellBackToPolling
            ? 'polling on the normal schedule (a change came without its event)'
            : 'polling only as a safety net';
    rows.push(['job events', `${n(events.received)} received (last: ${events.lastStatus}); ${how}`]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `**HealthLake import** into data store \`${progress.datastoreId}\``,
    '',
    '```',
    ...rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`),
    '```',
  ].join('\n');
}
