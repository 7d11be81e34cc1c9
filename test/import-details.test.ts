// The import's current details in the Temporal UI read as a person expects: aligned labels, units,
// rounded numbers (throughput 0.15 MB/s, not 0.15001650725482227), MB as the CLI prints them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatEtaMs, renderImportDetails } from '../workflows/import-details';
import { ZERO_COUNTS } from '../workflows/poll-policy';

describe('renderImportDetails', () => {
  it('an aligned block with units and rounded numbers', () => {
    assert.equal(
      renderImportDetails({
        datastoreId: '6cf72eaa0fa151f8448ea6a2aa4174bc',
        jobId: 'dac6ca1f13ba5b6de6824f0a99eedb29',
        status: 'IN_PROGRESS',
        counts: {
          scannedFiles: 3,
          scannedMb: 11.93456,
          importedFiles: 2,
          resourcesScanned: 15_170,
          resourcesImported: 15_162,
          resourcesWithCustomerError: 8,
          filesReadWithCustomerError: 0,
          throughput: 0.15001650725482227,
        },
        percent: 47.91234,
        etaMs: 125_400,
        describeCalls: 12,
        lastChangeAt: '2026-12-03T13:30:00.000Z',
      }),
      [
        '**HealthLake import** into data store `6cf72eaa0fa151f8448ea6a2aa4174bc`',
        '',
        '```',
        'status              IN_PROGRESS',
        'job                 dac6ca1f13ba5b6de6824f0a99eedb29',
        'progress            47.9 %',
        'ETA                 2 min 06 s',
        'resources imported  15,162 of 15,170 scanned',
        'resources rejected  8',
        'files               2 imported of 3 scanned, 0 unreadable',
        'data scanned        11.9 MB',
        'throughput          0.15 MB/s',
        'Describe calls      12',
        'last change         2026-12-03T13:30:00.000Z',
        '```',
      ].join('\n'),
    );
  });

  it('before the job starts: no percent, no ETA, "(not started)"', () => {
    const text = renderImportDetails({
      datastoreId: 'd',
      status: 'NOT_STARTED',
      counts: ZERO_COUNTS,
      describeCalls: 0,
    });
    assert.ok(text.includes('\njob                 (not started)\n'), text);
    assert.ok(!text.includes('ETA'), text);
    assert.ok(text.includes('\nthroughput          0.00 MB/s\n'), text);
  });

  it('ETAs', () => {
    assert.deepEqual([999, 45_000, 125_400, 3_725_000].map(formatEtaMs), [
      '1 s',
      '45 s',
      '2 min 06 s',
      '1 h 02 min',
    ]);
  });
});
