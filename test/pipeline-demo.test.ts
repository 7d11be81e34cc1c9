// The demo's progress line: a pure function of the import's progress and the bytes landed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderProgressLine } from '../cli/demo';
import { ZERO_COUNTS } from '../workflows/poll-policy';
import type { FhirImportProgress } from '../workflows/types';

function progress(
  overrides: Partial<FhirImportProgress>,
  counts: Partial<FhirImportProgress['counts']> = {},
): FhirImportProgress {
  return {
    datastoreId: 'ds',
    status: 'IN_PROGRESS',
    describeCalls: 3,
    counts: { ...ZERO_COUNTS, ...counts },
    ...overrides,
  };
}

describe('renderProgressLine', () => {
  const cases: ReadonlyArray<[string, FhirImportProgress, number | undefined, string]> = [
    [
      'half way, ETA over a minute',
      progress(
        { percent: 50, etaMs: 65_000 },
        { resourcesImported: 12_345, scannedMb: 12.34, throughput: 1.5 },
      ),
      24_900_000,
      '[████████████░░░░░░░░░░░░]  50.0%  IN_PROGRESS  12,345 resources  12.3/24.9 MB  1.50 MB/s  ETA 1m05s',
    ],
    [
      'before the job starts: no percent, no total, no ETA',
      progress({ status: 'NOT_STARTED' }),
      undefined,
      '[░░░░░░░░░░░░░░░░░░░░░░░░]   0.0%  NOT_STARTED       0 resources  0.0 MB  0.00 MB/s  ETA --',
    ],
    [
      'done, long status name',
      progress(
        { status: 'COMPLETED_WITH_ERRORS', percent: 100, etaMs: 0 },
        { resourcesImported: 31_482, scannedMb: 24.9, throughput: 1 },
      ),
      24_900_000,
      '[████████████████████████] 100.0%  COMPLETED_WITH_ERRORS  31,482 resources  24.9/24.9 MB  1.00 MB/s  ETA 0s',
    ],
  ];
  for (const [name, input, landedBytes, expected] of cases) {
    it(name, () => {
      assert.equal(renderProgressLine(input, landedBytes), expected);
    });
  }
});
