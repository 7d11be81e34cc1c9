// Table test of the import's reconciliation against the landing manifest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LandingManifest } from '../workflows/manifest';
import { reconcileImport, reconciliationFailureMessage } from '../workflows/reconcile';
import type { ImportJobCounts } from '../workflows/types';

const manifest: LandingManifest = {
  s3Uri: 's3://bucket/in/',
  objects: [
    { key: 'in/Patient.ndjson', sizeBytes: 1000, sha256: 'a'.repeat(64), lines: 60 },
    { key: 'in/Observation.ndjson', sizeBytes: 2000, sha256: 'b'.repeat(64), lines: 40 },
  ],
  totalObjects: 2,
  totalBytes: 3000,
  totalLines: 100,
};

const exact: ImportJobCounts = {
  scannedFiles: 2,
  scannedMb: 0.003,
  importedFiles: 2,
  resourcesScanned: 100,
  resourcesImported: 97,
  resourcesWithCustomerError: 3,
  filesReadWithCustomerError: 0,
  throughput: 1,
};

const cases: ReadonlyArray<{ name: string; counts: Partial<ImportJobCounts>; mismatches: string[] }> = [
  { name: 'everything adds up (errors count as accounted for)', counts: {}, mismatches: [] },
  {
    name: 'a landed file was not scanned',
    counts: { scannedFiles: 1, resourcesScanned: 60, resourcesImported: 57 },
    mismatches: [
      'files scanned 1 != files landed 2',
      'resources scanned 60 != lines landed 100',
      'resources imported 57 + with customer error 3 = 60 != lines landed 100',
    ],
  },
  {
    name: 'an extra file under the prefix was scanned',
    counts: { scannedFiles: 3 },
    mismatches: ['files scanned 3 != files landed 2'],
  },
  {
    name: 'resources scanned but neither imported nor reported',
    counts: { resourcesImported: 95 },
    mismatches: ['resources imported 95 + with customer error 3 = 98 != lines landed 100'],
  },
  {
    name: 'more resources than lines',
    counts: { resourcesScanned: 101, resourcesImported: 98 },
    mismatches: [
      'resources scanned 101 != lines landed 100',
      'resources imported 98 + with customer error 3 = 101 != lines landed 100',
    ],
  },
  {
    name: 'a file that could not be read',
    counts: { filesReadWithCustomerError: 1 },
    mismatches: ['1 landed files could not be read'],
  },
];

describe('reconcileImport', () => {
  for (const c of cases) {
    it(c.name, () => {
      const counts = { ...exact, ...c.counts };
      const reconciliation = reconcileImport(manifest, counts);
      assert.deepEqual(reconciliation, {
        filesLanded: 2,
        filesScanned: counts.scannedFiles,
        linesLanded: 100,
        resourcesScanned: counts.resourcesScanned,
        resourcesImported: counts.resourcesImported,
        resourcesWithCustomerError: 3,
        mismatches: c.mismatches,
      });
    });
  }

  it('names every mismatch in the strict failure message', () => {
    const reconciliation = reconcileImport(manifest, { ...exact, scannedFiles: 3, resourcesImported: 95 });
    assert.equal(
      reconciliationFailureMessage(reconciliation),
      'import does not reconcile with the landing manifest: files scanned 3 != files landed 2; ' +
        'resources imported 95 + with customer error 3 = 98 != lines landed 100',
    );
  });
});
