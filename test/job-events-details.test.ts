// What the Temporal UI's current details say about job events (renderImportDetails, pure), and the
// safety-net policy the wait uses while events arrive (eventSafetyNetPolicy, pure).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderImportDetails } from '../workflows/import-details';
import { eventSafetyNetPolicy, importEventRank, importStatusOfDetailType } from '../workflows/job-events';
import { ZERO_COUNTS } from '../workflows/poll-policy';
import { DEFAULT_POLL_POLICY, type FhirImportProgress } from '../workflows/types';

const progress: FhirImportProgress = {
  datastoreId: 'd'.repeat(32),
  jobId: 'j'.repeat(32),
  status: 'COMPLETED',
  counts: ZERO_COUNTS,
  describeCalls: 1,
};

describe('job events in the UI and the wait', () => {
  it('the details say how the end was found, and nothing without events', () => {
    const row = (p: FhirImportProgress) =>
      renderImportDetails(p)
        .split('\n')
        .find((l) => l.startsWith('job events'));
    assert.equal(row(progress), undefined);
    assert.equal(
      row({
        ...progress,
        jobEvents: { received: 3, lastStatus: 'COMPLETED', detectedBy: 'event', detectedAt: 'x' },
      }),
      'job events          3 received (last: COMPLETED); end detected by event',
    );
    assert.equal(
      row({ ...progress, status: 'IN_PROGRESS', jobEvents: { received: 1, lastStatus: 'SUBMITTED' } }),
      'job events          1 received (last: SUBMITTED); polling only as a safety net',
    );
    assert.equal(
      row({
        ...progress,
        jobEvents: { received: 2, lastStatus: 'IN_PROGRESS', detectedBy: 'poll', fellBackToPolling: true },
      }),
      'job events          2 received (last: IN_PROGRESS); end detected by polling',
    );
  });

  it('the safety net: its own floor and a cap of 12 times it, whatever the normal schedule', () => {
    // With a known total: 1.5 × the remaining ETA (after the expected end), up to 1.5 × the cap.
    assert.deepEqual(eventSafetyNetPolicy(DEFAULT_POLL_POLICY), {
      ...DEFAULT_POLL_POLICY,
      initialDelayMs: 600_000,
      minDelayMs: 600_000,
      maxDelayMs: 7_200_000,
      queuedDelayMs: 600_000,
      etaFraction: 1.5,
      progressIntervalMs: 10_800_000,
    });
    const short = eventSafetyNetPolicy({
      ...DEFAULT_POLL_POLICY,
      minDelayMs: 120_000,
      eventSafetyNetDelayMs: 2_000,
    });
    assert.deepEqual(
      [short.minDelayMs, short.maxDelayMs, short.queuedDelayMs, short.etaFraction, short.progressIntervalMs],
      [2_000, 24_000, 2_000, 1.5, 36_000],
    );
  });

  it('detail-types map to statuses; statuses rank as events announce them', () => {
    assert.equal(importStatusOfDetailType('Import Job Completed With Errors'), 'COMPLETED_WITH_ERRORS');
    assert.equal(importStatusOfDetailType('Export Job Completed'), undefined);
    assert.equal(importStatusOfDetailType('toString'), undefined);
    assert.deepEqual(
      (['NOT_STARTED', 'SUBMITTED', 'QUEUED', 'IN_PROGRESS', 'COMPLETED', 'FAILED'] as const).map(
        importEventRank,
      ),
      [-1, 0, 1, 2, 3, 3],
    );
  });
});
