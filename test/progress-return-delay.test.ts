// The first wait after a progress return (activities/import.ts firstDelayAfterReturn): exact delays
// with injected time and randomness.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstDelayAfterReturn, type AwaitImportJobArgs } from '../activities/import';
import { ZERO_COUNTS } from '../workflows/poll-policy';
import { DEFAULT_POLL_POLICY } from '../workflows/types';

const NOW = 1_000_000;
const noJitter = () => 0;

function args(
  overrides: Partial<AwaitImportJobArgs> & { etaMs?: number; lastStatus?: string } = {},
): AwaitImportJobArgs {
  const { etaMs, lastStatus, ...rest } = overrides;
  return {
    datastoreId: 'd'.repeat(32),
    jobId: 'job1',
    knownStatus: 'IN_PROGRESS',
    knownMilestone: 0,
    progressDueAtMs: NOW + 20 * 60_000,
    describeCallsAtChange: 4,
    pollPolicy: DEFAULT_POLL_POLICY,
    firstDelayMs: DEFAULT_POLL_POLICY.minDelayMs,
    lastProgress: {
      datastoreId: 'd'.repeat(32),
      jobId: 'job1',
      status: (lastStatus ?? 'IN_PROGRESS') as 'IN_PROGRESS',
      counts: ZERO_COUNTS,
      describeCalls: 7,
      ...(etaMs === undefined ? {} : { etaMs }),
    },
    ...rest,
  };
}

describe('firstDelayAfterReturn', () => {
  it('a return far from a known end waits the capped ETA fraction (10 min), not the 5 s floor', () => {
    assert.equal(firstDelayAfterReturn(args({ etaMs: 60 * 60_000 }), NOW, noJitter), 600_000);
  });

  it('half the ETA when that is shorter than the progress interval', () => {
    assert.equal(firstDelayAfterReturn(args({ etaMs: 4 * 60_000 }), NOW, noJitter), 120_000);
  });

  it('an end that is due: the floor', () => {
    assert.equal(firstDelayAfterReturn(args({ etaMs: 8_000 }), NOW, noJitter), 5_000);
  });

  it('without a total: the backoff from the polls since the status change (3 polls: 40 s)', () => {
    assert.equal(firstDelayAfterReturn(args(), NOW, noJitter), 40_000);
  });

  it('never past the next progress return', () => {
    assert.equal(
      firstDelayAfterReturn(args({ etaMs: 60 * 60_000, progressDueAtMs: NOW + 90_000 }), NOW, noJitter),
      90_000,
    );
  });

  it('jitter takes off up to 20 %, as for every other wait', () => {
    assert.equal(
      firstDelayAfterReturn(args({ etaMs: 60 * 60_000 }), NOW, () => 0.5),
      540_000,
    );
  });

  it('a status change, an older workflow or a status other than IN_PROGRESS: the workflow decides', () => {
    assert.equal(firstDelayAfterReturn(args({ describeCallsAtChange: 7 }), NOW, noJitter), undefined);
    assert.equal(firstDelayAfterReturn(args({ progressDueAtMs: undefined }), NOW, noJitter), undefined);
    assert.equal(
      firstDelayAfterReturn(args({ knownStatus: 'QUEUED', lastStatus: 'QUEUED' }), NOW, noJitter),
      undefined,
    );
  });
});
