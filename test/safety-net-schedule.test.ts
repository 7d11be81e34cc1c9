// The safety net's exact Describe schedule while job events arrive (eventSafetyNetPolicy with the
// poll policy, the progress cadence and the wait's first delay after a progress return): pure
// functions with time and randomness injected, walked the way the workflow and the wait activity
// combine them. Issue 10's target: with events live, at most 3 Describe calls per job of any length
// 5-120 min (the end event's one and the safety net's), and a lost end event still found.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstDelayAfterReturn } from '../activities/import';
import { eventSafetyNetPolicy } from '../workflows/job-events';
import { etaDue, nextPollDelayMs, progressDueAtMs, ZERO_COUNTS } from '../workflows/poll-policy';
import { DEFAULT_POLL_POLICY } from '../workflows/types';

const MIN = 60_000;
const noJitter = () => 0;
const fullJitter = () => 0.999_999;

interface Walk {
  /** Minutes after the job went IN_PROGRESS (its In Progress event) of each safety-net Describe. */
  readonly describedAtMin: number[];
  /** Describe calls of the wait: the safety net's, plus the one the end event buys when it comes. */
  readonly describes: number;
  /** With the end event lost: how long after the job's end the safety net found it, in ms. */
  readonly lateMs: number;
}

/**
 * An IN_PROGRESS job of `lengthMs` whose known total gives an exact ETA, waited for on the safety
 * net from its In Progress event (t = 0) with the production defaults: the workflow's first delay
 * (the safety net's floor), the activity's next delay after each Describe (`nextPollDelayMs`, not
 * past the next progress return), the progress returns (`progressDueAtMs`) and the first delay after
 * one (`firstDelayAfterReturn`). The end event, when it comes, cancels the pending poll and buys one
 * Describe.
 */
function walkSafetyNet(lengthMs: number, endEvent: boolean, random: () => number = noJitter): Walk {
  const caller = DEFAULT_POLL_POLICY;
  const net = eventSafetyNetPolicy(caller);
  const describedAt: number[] = [];
  let now = 0;
  let delay = net.minDelayMs; // the workflow's firstDelayMs on the safety net, 0 Describes since the change
  let returns = 0;
  let lastReturnMs = 0;
  let dueSince: number | undefined;
  for (;;) {
    now += delay;
    if (endEvent && now >= lengthMs) {
      return {
        describedAtMin: describedAt.map((t) => t / MIN),
        describes: describedAt.length + 1,
        lateMs: 0,
      };
    }
    describedAt.push(now);
    const describes = describedAt.length;
    if (now >= lengthMs) {
      return { describedAtMin: describedAt.map((t) => t / MIN), describes, lateMs: now - lengthMs };
    }
    const etaMs = lengthMs - now;
    if (dueSince === undefined && etaDue(etaMs, net)) dueSince = describes;
    const dueAtMs = progressDueAtMs(lastReturnMs, returns, caller);
    if (dueAtMs !== null && now >= dueAtMs) {
      // A progress return: the workflow takes the counts and starts the next wait.
      returns++;
      lastReturnMs = now;
      delay = firstDelayAfterReturn(
        {
          datastoreId: 'd'.repeat(32),
          jobId: 'job1',
          knownStatus: 'IN_PROGRESS',
          knownMilestone: 0,
          progressDueAtMs: progressDueAtMs(lastReturnMs, returns, caller),
          describeCallsAtChange: 0,
          pollPolicy: net,
          firstDelayMs: Math.min(net.maxDelayMs, net.minDelayMs * Math.pow(net.multiplier, describes)),
          lastProgress: {
            datastoreId: 'd'.repeat(32),
            jobId: 'job1',
            status: 'IN_PROGRESS',
            counts: ZERO_COUNTS,
            describeCalls: describes,
            etaMs,
          },
        },
        now,
        random,
      )!;
    } else {
      delay = nextPollDelayMs(
        {
          pollsSinceChange: describes,
          status: 'IN_PROGRESS',
          etaMs,
          ...(dueSince === undefined ? {} : { pollsSinceEtaDue: describes - dueSince }),
          nowMs: now,
        },
        net,
        random,
      );
      if (dueAtMs !== null) delay = Math.max(net.minDelayMs, Math.min(delay, dueAtMs - now));
    }
  }
}

const LENGTHS_MIN = [5, 9.4, 17.8, 33.7, 63.6, 120];

describe('the safety net while job events arrive (known total)', () => {
  it('places its Describes after the expected end: ≤ 2 per wait (≤ 3 per job) at every length 5-120 min', () => {
    const walks = LENGTHS_MIN.map((minutes) => walkSafetyNet(minutes * MIN, true));
    assert.deepEqual(
      walks.map((w) => [w.describedAtMin, w.describes]),
      [
        [[], 1],
        [[], 1],
        [[10], 2],
        [[10], 2],
        [[10], 2],
        [[10], 2],
      ],
    );
    // Full jitter (20 % off every wait) still places them after the end.
    assert.deepEqual(
      LENGTHS_MIN.map((minutes) => walkSafetyNet(minutes * MIN, true, fullJitter).describes),
      [1, 1, 2, 2, 2, 2],
    );
  });

  it('a lost end event is still found: at most max(½ the remaining ETA, the backoff) after the end', () => {
    // The first safety-net Describe (10 min) is also the first progress return; the next is the
    // later of 1.5 × the remaining ETA and the safety net's backoff (20 min after that return).
    const walks = LENGTHS_MIN.map((minutes) => walkSafetyNet(minutes * MIN, false));
    assert.deepEqual(
      walks.map((w) => [w.describedAtMin, Math.round(w.lateMs / 1000)]),
      [
        [[10], 300],
        [[10], 36],
        [[10, 30], 732],
        [[10, 45.55], 711],
        [[10, 90.4], 1_608],
        [[10, 130], 600],
      ],
    );
  });
});
