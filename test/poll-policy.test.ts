// Exact-sequence tests of the poll backoff, percent/ETA and milestones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BYTES_PER_MB,
  estimateCompletion,
  nextPoll,
  nextPollDelayMs,
  progressMilestone,
  ZERO_COUNTS,
} from '../workflows/poll-policy';
import { DEFAULT_POLL_POLICY, type PollPolicy } from '../workflows/types';

const NOW = 1_000_000;
const noJitter = () => 0;

function delays(
  count: number,
  policy: PollPolicy,
  random: () => number,
  status = 'IN_PROGRESS' as const,
): number[] {
  return Array.from({ length: count }, (_, n) =>
    nextPollDelayMs({ pollsSinceChange: n, status, nowMs: NOW }, policy, random),
  );
}

describe('nextPollDelayMs', () => {
  it('production defaults: 5 s floor doubling to a 60 s cap while nothing moves', () => {
    assert.deepEqual(
      delays(7, DEFAULT_POLL_POLICY, noJitter),
      [5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000],
    );
  });

  it('jitter takes up to 20 % off, never below the floor', () => {
    const randoms = [0.5, 0.999, 0.25, 1, 0];
    let i = 0;
    const random = () => randoms[i++] ?? 0;
    // 5000·(1−0.2·0.5)=4500→floor 5000; 10000·(1−0.2·0.999)=8002; 20000·0.95=19000; 40000·0.8=32000; 60000
    assert.deepEqual(delays(5, DEFAULT_POLL_POLICY, random), [5_000, 8_002, 19_000, 32_000, 60_000]);
  });

  it('a change resets the wait to the floor', () => {
    const policy = { ...DEFAULT_POLL_POLICY, minDelayMs: 20, maxDelayMs: 200, multiplier: 3, jitter: 0 };
    const seq = [0, 1, 2, 3, 0, 1].map((n) =>
      nextPollDelayMs({ pollsSinceChange: n, status: 'IN_PROGRESS', nowMs: NOW }, policy, noJitter),
    );
    assert.deepEqual(seq, [20, 60, 180, 200, 20, 60]);
  });

  it('QUEUED waits queuedDelayMs whatever the poll count', () => {
    assert.deepEqual(delays(3, DEFAULT_POLL_POLICY, noJitter, 'QUEUED' as never), [60_000, 60_000, 60_000]);
  });

  it('polls at the ETA when it comes before the next wait, not before the floor', () => {
    const state = { pollsSinceChange: 4, status: 'IN_PROGRESS' as const, nowMs: NOW };
    assert.equal(nextPollDelayMs({ ...state, etaMs: 12_345 }, DEFAULT_POLL_POLICY, noJitter), 12_345);
    assert.equal(nextPollDelayMs({ ...state, etaMs: 1_000 }, DEFAULT_POLL_POLICY, noJitter), 5_000);
    assert.equal(nextPollDelayMs({ ...state, etaMs: 600_000 }, DEFAULT_POLL_POLICY, noJitter), 60_000);
  });

  it('ends a wait at the deadline, never below the floor, and stops once it has passed', () => {
    const policy = { ...DEFAULT_POLL_POLICY, jitter: 0 };
    const state = { pollsSinceChange: 6, status: 'IN_PROGRESS' as const };
    // Walk the clock by each wait towards a deadline 13 s away: 60 s cap → 13 s (the deadline);
    // then at 3 s, 1 ms and 0 ms before it: the 5 s floor, never a shorter wait; at and after: stop.
    const deadlineMs = NOW + 13_000;
    const at = (nowMs: number) => nextPoll({ ...state, nowMs, deadlineMs }, policy, noJitter);
    assert.deepEqual([NOW, deadlineMs - 3_000, deadlineMs - 1, deadlineMs, deadlineMs + 1].map(at), [
      { kind: 'wait', delayMs: 13_000 },
      { kind: 'wait', delayMs: 5_000 },
      { kind: 'wait', delayMs: 5_000 },
      { kind: 'deadline-passed' },
      { kind: 'deadline-passed' },
    ]);
    assert.equal(nextPollDelayMs({ ...state, nowMs: deadlineMs + 1, deadlineMs }, policy, noJitter), 5_000);
    assert.deepEqual(nextPoll({ ...state, nowMs: NOW }, policy, noJitter), { kind: 'wait', delayMs: 60_000 });
  });
});

describe('estimateCompletion', () => {
  const totalBytes = 100 * BYTES_PER_MB;
  it('percent from MB scanned vs bytes landed, ETA from the measured pace', () => {
    const counts = { ...ZERO_COUNTS, scannedMb: 25, throughput: 99 };
    // 25 MB in 10 s → 2.5 MB/s; 75 MB left → 30 s.
    assert.deepEqual(
      estimateCompletion({
        counts,
        status: 'IN_PROGRESS',
        totalBytes,
        inProgressSinceMs: NOW - 10_000,
        nowMs: NOW,
      }),
      { percent: 25, etaMs: 30_000 },
    );
  });
  it("uses HealthLake's Throughput before there is a measurement", () => {
    const counts = { ...ZERO_COUNTS, throughput: 2 };
    assert.deepEqual(estimateCompletion({ counts, status: 'IN_PROGRESS', totalBytes, nowMs: NOW }), {
      percent: 0,
      etaMs: 50_000,
    });
  });
  it('no total, no estimate; success is 100 %', () => {
    assert.deepEqual(estimateCompletion({ counts: ZERO_COUNTS, status: 'IN_PROGRESS', nowMs: NOW }), {});
    assert.deepEqual(
      estimateCompletion({ counts: ZERO_COUNTS, status: 'COMPLETED', totalBytes, nowMs: NOW }),
      {
        percent: 100,
        etaMs: 0,
      },
    );
    assert.deepEqual(estimateCompletion({ counts: ZERO_COUNTS, status: 'QUEUED', totalBytes, nowMs: NOW }), {
      percent: 0,
    });
  });
});

describe('progressMilestone', () => {
  it('splits 0..100 % into maxMilestones + 1 bands', () => {
    assert.deepEqual(
      [0, 9, 10, 49.9, 50, 99.9, 100].map((p) => progressMilestone(p, 9)),
      [0, 0, 1, 4, 5, 9, 9],
    );
    assert.equal(progressMilestone(undefined, 9), 0);
    assert.equal(progressMilestone(80, 0), 0);
  });
});
