// Exact-sequence tests of the poll backoff, percent/ETA and milestones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BYTES_PER_MB,
  estimateCompletion,
  etaDue,
  nextPoll,
  nextPollDelayMs,
  progressDueAtMs,
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

  it('with a known ETA: half of it, capped at progressIntervalMs, never below the floor', () => {
    const state = { pollsSinceChange: 4, status: 'IN_PROGRESS' as const, nowMs: NOW };
    const at = (etaMs: number, pollsSinceEtaDue?: number) =>
      nextPollDelayMs({ ...state, etaMs, pollsSinceEtaDue }, DEFAULT_POLL_POLICY, noJitter);
    assert.equal(at(12_345), 6_173);
    assert.equal(at(600_000), 300_000);
    assert.equal(at(1_200_000), 600_000);
    // Capped at the 10 min progress interval (was 5 min: 0.7x the waiter's calls at 2 h, measured).
    assert.equal(at(7_200_000), 600_000);
    // Due (half the ETA below the floor): the floor, then backing off while the job overruns it.
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((n) => at(1_000, n)),
      [5_000, 10_000, 20_000, 40_000, 60_000, 60_000],
    );
    assert.equal(etaDue(9_999, DEFAULT_POLL_POLICY), true);
    assert.equal(etaDue(10_000, DEFAULT_POLL_POLICY), false);
    assert.equal(etaDue(undefined, DEFAULT_POLL_POLICY), false);
  });

  it('a poll that saw the counts move waits at least reportRefreshMs; count changes do not restart the backoff', () => {
    const at = (pollsSinceChange: number, countsChanged: boolean) =>
      nextPollDelayMs(
        { pollsSinceChange, status: 'IN_PROGRESS', countsChanged, nowMs: NOW },
        DEFAULT_POLL_POLICY,
        noJitter,
      );
    // The old policy restarted at the floor on every count change: a job whose report moved every
    // 30 s was described every ~10 s for its whole run.
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => at(n, true)),
      [30_000, 30_000, 30_000, 40_000, 60_000],
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((n) => at(n, false)),
      [5_000, 10_000, 20_000, 40_000, 60_000],
    );
    // Jitter never takes the wait below the refresh interval.
    assert.equal(
      nextPollDelayMs(
        { pollsSinceChange: 0, status: 'IN_PROGRESS', countsChanged: true, nowMs: NOW },
        DEFAULT_POLL_POLICY,
        () => 0.999,
      ),
      30_000,
    );
  });

  it('a known total without a pace yet waits for the next report, not the floor backoff', () => {
    const at = (pollsSinceChange: number, status: 'IN_PROGRESS' | 'QUEUED' | 'SUBMITTED') =>
      nextPollDelayMs(
        { pollsSinceChange, status, awaitingPace: true, nowMs: NOW },
        DEFAULT_POLL_POLICY,
        noJitter,
      );
    // Without it the job just seen IN_PROGRESS was described 5 s and 10 s later, before HealthLake
    // could report anything to take a pace from (2 calls per import, the polling bench's trace).
    assert.deepEqual(
      [0, 1, 2, 3].map((n) => at(n, 'IN_PROGRESS')),
      [30_000, 30_000, 30_000, 40_000],
    );
    // Status changes are not tied to the report: SUBMITTED keeps the floor backoff.
    assert.deepEqual(
      [0, 1].map((n) => at(n, 'SUBMITTED')),
      [5_000, 10_000],
    );
  });

  it('a policy from an older workflow (without the new settings) gets their defaults', () => {
    const { reportRefreshMs: _r, etaFraction: _e, progressIntervalMs: _p, ...old } = DEFAULT_POLL_POLICY;
    const state = { pollsSinceChange: 0, status: 'IN_PROGRESS' as const, nowMs: NOW, etaMs: 7_200_000 };
    assert.equal(nextPollDelayMs(state, old, noJitter), 600_000);
    assert.equal(nextPollDelayMs({ ...state, etaMs: undefined, countsChanged: true }, old, noJitter), 30_000);
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

/**
 * Walks a job of `lengthMs` whose ETA is exact, with the defaults and no jitter, the way the wait
 * activity does: the waits, the Describe count and how late the end is seen.
 */
function walkKnownTotal(lengthMs: number): { waits: number[]; describes: number; lateMs: number } {
  let now = 0;
  let polls = 0;
  let dueSince: number | undefined;
  const waits: number[] = [];
  while (now < lengthMs) {
    const etaMs = lengthMs - now;
    if (dueSince === undefined && etaDue(etaMs, DEFAULT_POLL_POLICY)) dueSince = polls;
    const wait = nextPollDelayMs(
      {
        pollsSinceChange: polls,
        status: 'IN_PROGRESS',
        etaMs,
        nowMs: now,
        ...(dueSince === undefined ? {} : { pollsSinceEtaDue: polls - dueSince }),
      },
      DEFAULT_POLL_POLICY,
      noJitter,
    );
    waits.push(wait);
    now += wait;
    polls++;
  }
  return { waits, describes: polls + 1, lateMs: now - lengthMs };
}

describe('known total: polls worth their cost', () => {
  it("a 2-hour job: every 10 min while the end is far, halving near it; a third of the waiter's calls", () => {
    const { waits, describes, lateMs } = walkKnownTotal(7_200_000);
    assert.deepEqual(waits, [
      ...Array<number>(11).fill(600_000),
      300_000,
      150_000,
      75_000,
      37_500,
      18_750,
      9_375,
      5_000,
      10_000,
    ]);
    // The AWS SDK waiter describes at 0 and every 120 s: 61 calls for 2 hours, seeing the end
    // 60 s late on average.
    assert.equal(describes, 20);
    assert.equal(Math.round((describes / 61) * 100) / 100, 0.33);
    assert.equal(lateMs, 5_625);
  });

  it('the length mix 5-120 min: calls and lateness', () => {
    const figures = [300_000, 1_800_000, 3_600_000, 7_200_000].map((ms) => {
      const { describes, lateMs } = walkKnownTotal(ms);
      return [ms / 60_000, describes, lateMs];
    });
    assert.deepEqual(figures, [
      [5, 8, 5_625],
      [30, 11, 5_625],
      [60, 14, 5_625],
      [120, 20, 5_625],
    ]);
  });
});

describe('progressDueAtMs', () => {
  it('log-spaced returns to the workflow: 10 min, then 2 h after that, then none (defaults)', () => {
    // A 2-hour import makes one return (37 history events, issue 9's bound is 40); growth 4 made
    // two (10 and 50 min in: 43 events).
    assert.deepEqual(
      [0, 1, 2].map((returned) => progressDueAtMs(NOW, returned, DEFAULT_POLL_POLICY)),
      [NOW + 600_000, NOW + 7_200_000, null],
    );
    const policy = { ...DEFAULT_POLL_POLICY, progressIntervalMs: 60_000, maxProgressMilestones: 4 };
    assert.deepEqual(
      [0, 1, 2, 3, 4].map((returned) => progressDueAtMs(0, returned, policy)),
      [60_000, 720_000, 8_640_000, 103_680_000, null],
    );
    assert.equal(progressDueAtMs(NOW, 0, { ...DEFAULT_POLL_POLICY, maxProgressMilestones: 0 }), null);
  });

  it('a 2-hour import at the defaults: one progress return, 31 + 6 = 37 history events', () => {
    const returnsWithin = (lengthMs: number): number => {
      let returns = 0;
      let since = 0;
      for (let due = progressDueAtMs(since, 0, DEFAULT_POLL_POLICY); due !== null && due < lengthMs;) {
        returns++;
        since = due;
        due = progressDueAtMs(since, returns, DEFAULT_POLL_POLICY);
      }
      return returns;
    };
    // HISTORY_EVENTS_TWO_STATUS_CHANGES (test/import-workflow.test.ts) is 31; each return adds 6.
    assert.deepEqual(
      [30, 120, 129, 131, 600].map((minutes) => returnsWithin(minutes * 60_000)),
      [1, 1, 1, 2, 2],
    );
    assert.equal(31 + 6 * returnsWithin(120 * 60_000), 37);
  });
});
